/**
 * What a stage of the gateway's request pipeline is (gateway/pipeline.ts lists them in order).
 *
 * The onion model of Envelop's `onExecute` / `onExecuteDone`: a stage's `prepare` runs left to
 * right through the list, its `finish` right to left, so a stage that rewrites the executed
 * document or the request puts its rewrite in `prepare` and its undo in `finish`, and the order
 * of rewrites and undos is a property of the list. A stage hooks only the moments it needs:
 *
 * - `context`: while Apollo Server builds the request's context (identity, purpose, rate); a
 *   refusal thrown here passes `contextRefused` of the stages before it, right to left;
 * - `received` (before parsing) and `resolved` (parsed, validated, operation known): admission;
 * - `prepare` / `finish`: execution, around the departments' answers;
 * - `departmentCall` / `departmentAnswered`: each call to a department and its answer;
 * - `sent`: an answer Apollo Server produced without the pipeline's execution (a refusal), right
 *   to left;
 * - `httpAnswer`: the HTTP body of a refusal, as it leaves;
 * - `httpHeaders`: headers of any HTTP answer of /graphql, as it leaves.
 */
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayGraphQLResponse,
} from '@apollo/server-gateway-interface';
import type { GraphQLRequest, GraphQLResponse } from '@apollo/server';
import type { DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { IdentityHeaders } from '../../lib/identity/authenticate.ts';
import type { DepartmentRequest } from '../../lib/identity/assertion.ts';
import type { CompiledPolicy, Consumer, ConsumerView } from '../../lib/policy/decision/model.ts';
import type { Limits } from '../operation-limits.ts';
import type { FieldAccounting, PolicyVerdict } from '../policy-check.ts';
import type { PlannerKeys } from '../planner-keys.ts';
import { printedDocumentHash } from '../../lib/graphql/document-hash.ts';

/** Who asks, for what, under which policy version: set by authentication and purpose, read by every stage after them. */
export interface RequestIdentity {
  consumer: Consumer;
  purpose: string;
  policy: CompiledPolicy;
  view: ConsumerView;
  requestId: string;
  /** Signs the assertion for one department call of this request: that department, that exact request, once. */
  assertionFor(department: string, request: DepartmentRequest): string;
}

/** Per request, in its context: what the departments reported, and whether the pipeline's execution accounted for it. */
export interface RequestAccess {
  servedSubjects: Set<string>;
  recorded: boolean;
}

export interface GatewayContext {
  identity: RequestIdentity;
  /** The consumer's limits: its own where its policy entry sets them, the gateway's defaults elsewhere. */
  limits: Limits;
  /** What the access log gathers of this request. */
  access: RequestAccess;
}

/** The request while its context is built: each context stage fills in what it establishes. */
export interface ContextRequest {
  /** The HTTP request (`key`: the object the HTTP layer knows it by). */
  readonly http: { key: object; headers: IdentityHeaders; body: unknown; query: unknown };
  requestId?: string;
  /** The policy in force for this request (read once, so that one request sees one version). */
  policy?: CompiledPolicy;
  /** Who authenticated, and for which purpose, before the purpose is checked against the policy. */
  authenticated?: { consumer: Consumer; purpose: string };
  /** Whom a refusal from here on is recorded under: set once the credentials held, even if the purpose did not. */
  known?: { consumer: { id: string }; purpose: string };
  identity?: RequestIdentity;
  limits?: Limits;
  access: RequestAccess;
}

/** A request as received, before it is parsed (admission may replace its text). */
export interface ReceivedRequest {
  readonly request: GraphQLRequest;
  readonly context: GatewayContext;
  /** The API schema. */
  readonly schema: GraphQLSchema;
}

/** A request parsed and validated, its operation resolved (undefined: the document has no such operation). */
export interface ResolvedRequest {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly context: GatewayContext;
}

/** An answer Apollo Server is about to send that the pipeline's execution did not produce, with the request as received. */
export interface SentAnswer {
  readonly response: GraphQLResponse;
  readonly context: GatewayContext;
  readonly received: { source: string | undefined; operationName: string | null; startedAt: Date };
  readonly request: GraphQLRequest;
  readonly document: DocumentNode | undefined;
  readonly operationName: string | null;
}

export type Answer = GatewayExecutionResult;

/** One execution through the pipeline: what the execution stages read and rewrite. */
export interface Execution {
  readonly requestContext: GatewayGraphQLRequestContext;
  readonly identity: RequestIdentity;
  readonly access: RequestAccess;
  /** The API schema the operation was validated against. */
  readonly apiSchema: GraphQLSchema;
  /** The response keys Apollo's planner uses on each type of the same supergraph (gateway/planner-keys.ts). */
  readonly plannerKeys: PlannerKeys;
  /** @apollo/gateway's executor: plans the document and calls the departments. */
  readonly executor: GatewayExecutor;
  /** The document to execute as the stages so far have rewritten it; null when nothing is left to ask the departments. */
  document: DocumentNode | null;
  /** The variables `document` reads: the request's, and the literals the literal-arguments stage made variables. */
  variables: Record<string, unknown> | undefined;
  /** The policy's verdict (null: introspection, answered from the consumer's own schema). */
  verdict: PolicyVerdict | null;
  /** What the access log records of the operation's fields. */
  fields: FieldAccounting;
  /** Aliases of the selections the gateway added for itself: removed from the answer in one walk before it leaves. */
  added: string[];
}

/** One call to a department, as the data source is about to send it or has received it. */
export interface DepartmentCall {
  readonly department: string;
  readonly request: DepartmentRequest & { http?: { headers: { set(name: string, value: string): void } } };
  readonly context: Partial<GatewayContext>;
}

export type Awaitable<T> = T | Promise<T>;

export interface Stage {
  readonly name: string;
  context?(request: ContextRequest): Awaitable<void>;
  /** Right to left over the stages before the one that refused: returns the refusal to throw (the same, or another). */
  contextRefused?(request: ContextRequest, refusal: GraphQLError): Awaitable<GraphQLError>;
  received?(request: ReceivedRequest): Awaitable<void>;
  resolved?(request: ResolvedRequest): Awaitable<void>;
  /** Left to right; an answer returned ends the walk inward (the stages to the right do not run, their finish neither). */
  prepare?(execution: Execution): Awaitable<Answer | void>;
  /** Right to left, over the stages whose prepare ran: the answer, changed in place or replaced. */
  finish?(execution: Execution, answer: Answer): Awaitable<Answer>;
  departmentCall?(call: DepartmentCall): void;
  departmentAnswered?(call: DepartmentCall, response: GatewayGraphQLResponse): void;
  sent?(answer: SentAnswer): Awaitable<void>;
  httpAnswer?(request: object, status: number, payload: string): string;
  /** Headers to set on the HTTP answer to `request` (the object the HTTP layer knows it by), whatever its status; undefined: none. */
  httpHeaders?(request: object): Readonly<Record<string, string>> | undefined;
}

/** The hash Apollo's plan cache and the decision cache key `execution.document` by: the operation's own while no stage changed it. */
export function executionDocumentHash(execution: Execution, document: DocumentNode): string {
  const { requestContext } = execution;
  return document === requestContext.document ? requestContext.queryHash : printedDocumentHash(document);
}

/** A rewrite of a document made once per document object (a repeated operation's parsed document is the same object), then looked up. */
export function oncePerDocument<T>(rewrite: (document: DocumentNode) => T): (document: DocumentNode) => T {
  const done = new WeakMap<DocumentNode, { result: T }>();
  return (document) => {
    let found = done.get(document);
    if (!found) {
      found = { result: rewrite(document) };
      done.set(document, found);
    }
    return found.result;
  };
}

/** A stage that adds selections for the gateway's own use (once per document) and registers their alias for the strip stage. */
export function addingSelections(
  name: string,
  add: (document: DocumentNode, schema: GraphQLSchema) => { document: DocumentNode; alias: string } | null,
): Stage {
  const added = new WeakMap<
    GraphQLSchema,
    (document: DocumentNode) => { document: DocumentNode; alias: string } | null
  >();
  return {
    name,
    prepare(execution) {
      const { document, apiSchema } = execution;
      if (!document) return;
      let addTo = added.get(apiSchema);
      if (!addTo) {
        const schema = apiSchema;
        addTo = oncePerDocument((current) => add(current, schema));
        added.set(apiSchema, addTo);
      }
      const addition = addTo(document);
      if (!addition) return;
      execution.document = addition.document;
      execution.added.push(addition.alias);
    },
  };
}

/**
 * @apollo/gateway with the policy between Apollo Server and the query planner. Apollo Server has
 * parsed and validated the operation; before the gateway plans it, the consumer's view decides
 * it (see policy-check.ts), and introspection is answered from the consumer's own schema, in
 * which the fields it may never see under this purpose do not exist.
 */
import type { GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { MapperKind, mapSchema, pruneSchema } from '@graphql-tools/utils';
import { GraphQLError, execute, type DocumentNode, type GraphQLSchema } from 'graphql';
import { ErrorCode } from '../lib/errors.ts';
import type { DepartmentRequest } from '../lib/identity/assertion.ts';
import type { CompiledPolicy, Consumer, ConsumerView } from '../lib/policy/model.ts';
import { LruCache, PARSED_BYTES_PER_CHARACTER } from '../lib/lru-cache.ts';
import { collectRequestedFields } from '../lib/policy/operation-fields.ts';
import { accountFields, checkOperation, restoreDeniedFields, type FieldAccounting, type PolicyVerdict } from './policy-check.ts';
import type { AccessRecorder, RequestAccess } from './access-log.ts';
import type { Limits } from './operation-limits.ts';
import { removeAliased } from './added-selections.ts';
import { executedDocument, type ExecutedDocument } from './executed-document.ts';
import { restoreKeys } from './key-aliases.ts';
import { plannerKeysOf, type PlannerKeys } from './planner-keys.ts';

/** Who asks, for what, under which policy version: set by authentication, read by every stage after it. */
export interface RequestIdentity {
  consumer: Consumer;
  purpose: string;
  policy: CompiledPolicy;
  view: ConsumerView;
  requestId: string;
  /** Signs the assertion for one department call of this request: that department, that exact request, once. */
  assertionFor(department: string, request: DepartmentRequest): string;
}

export interface GatewayContext {
  identity: RequestIdentity;
  /** The consumer's limits: its own where its policy entry sets them, the gateway's defaults elsewhere. */
  limits: Limits;
  /** What the access log gathers of this request: the subjects the departments served, and whether it is recorded. */
  access: RequestAccess;
}

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** The estimated bytes each per-document cache of the gateway may hold. */
export const DOCUMENT_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * How the gateway answers one operation for one policy version, consumer view and mode, with what
 * the access log records of it: decided on the operation's first request, then cached.
 */
type OperationDecision =
  /** Introspection alone is answered from the consumer's own schema; mixed with data, it is refused. */
  | { kind: 'introspection'; alone: boolean; fields: FieldAccounting }
  | { kind: 'checked'; verdict: PolicyVerdict };

function decideOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, identity: RequestIdentity): OperationDecision {
  const requested = collectRequestedFields(schema, document, operationName);
  const roots = requested.filter(({ path }) => path.length === 1).map(({ fieldName }) => fieldName);
  if (roots.some((name) => INTROSPECTION_FIELDS.has(name))) {
    const alone = roots.every((name) => INTROSPECTION_FIELDS.has(name) || name === '__typename');
    return { kind: 'introspection', alone, fields: accountFields(requested, identity.view) };
  }
  return { kind: 'checked', verdict: checkOperation(schema, document, operationName, identity.view, identity.consumer.mode, requested) };
}

/** The API schema as one consumer sees it under one purpose: denied fields, and types left empty, removed. */
export function consumerSchema(apiSchema: GraphQLSchema, view: ConsumerView): GraphQLSchema {
  return pruneSchema(mapSchema(apiSchema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => (view.field(typeName, fieldName).effect === 'deny' ? null : config),
  }));
}

/**
 * For a refusal: the denied fields the consumer may see under another of its purposes, and which
 * (a field it may see under none never gets here: it does not exist for it, consumer-validation.ts).
 */
function underOtherPurposes(identity: RequestIdentity, coordinates: readonly string[]): string {
  const others = identity.consumer.purposes.filter((purpose) => purpose !== identity.purpose);
  const visible = coordinates.flatMap((coordinate) => {
    const [typeName = '', fieldName = ''] = coordinate.split('.');
    const purposes = others.filter((purpose) => {
      const effect = identity.policy.view(identity.consumer.id, purpose)?.field(typeName, fieldName).effect;
      return effect !== undefined && effect !== 'deny';
    });
    return purposes.length > 0 ? [`${coordinate} under ${purposes.join(', ')}`] : [];
  });
  return visible.length > 0 ? ` You may see ${visible.join('; ')}: declare that purpose in X-Credence-Purpose.` : '';
}

export interface PolicyGatewayOptions {
  /** Records every executed request before its answer is released (absent: no access log). */
  accessLog?: AccessRecorder;
}

/** An executed request's answer, with the verdict it was executed under (null: introspection). */
interface Decided {
  result: GatewayExecutionResult;
  verdict: PolicyVerdict | null;
  /** What the access log records of the operation's fields. */
  fields: FieldAccounting;
  /** The document Apollo executed, with the selections the gateway added (executed-document.ts). */
  executed?: ExecutedDocument;
}

export function withPolicy(gateway: GatewayInterface, options: PolicyGatewayOptions = {}): GatewayInterface {
  const decisions = new LruCache<OperationDecision>({ maxEntries: 2000, maxBytes: DOCUMENT_CACHE_BYTES });
  const executedDocuments = new LruCache<ExecutedDocument>({ maxEntries: 2000, maxBytes: DOCUMENT_CACHE_BYTES });
  const schemas = new LruCache<GraphQLSchema>({ maxEntries: 200 });
  let apiSchema: GraphQLSchema | undefined;
  let plannerKeys: PlannerKeys | undefined;

  // Only the views of the last few policy versions are asked for; the cache keeps those.
  const schemaFor = (schema: GraphQLSchema, identity: RequestIdentity): GraphQLSchema =>
    schemas.get(`${identity.policy.version}|${identity.view.key}`, () => consumerSchema(schema, identity.view));

  const decideAndExecute = async (executor: GatewayExecutor, requestContext: GatewayGraphQLRequestContext, identity: RequestIdentity, schema: GraphQLSchema): Promise<Decided> => {
    const operationName = requestContext.request.operationName ?? undefined;
    const document = requestContext.document;
    // What a cached decision or executed document of this operation holds, estimated from its source.
    const bytes = (requestContext.source?.length ?? 0) * PARSED_BYTES_PER_CHARACTER;

    const decision = decisions.get(
      `${identity.policy.version}|${identity.view.key}|${identity.consumer.mode}|${operationName ?? ''}|${requestContext.queryHash}`,
      () => decideOperation(schema, document, operationName, identity),
      bytes,
    );
    if (decision.kind === 'introspection') {
      const { fields } = decision;
      if (!decision.alone) {
        return { result: { errors: [new GraphQLError('Send introspection in an operation of its own.', { extensions: { code: ErrorCode.BAD_REQUEST } })] }, verdict: null, fields };
      }
      const result = await (execute({
        schema: schemaFor(schema, identity),
        document,
        operationName,
        variableValues: requestContext.request.variables,
      }) as Promise<GatewayExecutionResult>);
      return { result, verdict: null, fields };
    }

    const { verdict } = decision;
    const { fields } = verdict;
    const executedFor = (allowed: DocumentNode, queryHash: string, placeholder?: string): ExecutedDocument =>
      executedDocuments.get(queryHash, () => executedDocument(schema, allowed, queryHash, { accessLog: options.accessLog !== undefined, placeholder, plannerKeys }), bytes);
    const run = async (executed: ExecutedDocument): Promise<GatewayExecutionResult> => {
      const result = await executor({ ...requestContext, document: executed.document, queryHash: executed.queryHash });
      return executed.renamed.size > 0 ? restoreKeys(result, executed.renamed) : result;
    };
    switch (verdict.kind) {
      case 'allowed': {
        const executed = executedFor(document, requestContext.queryHash);
        return { result: await run(executed), verdict, fields, executed };
      }
      case 'rejected':
        return {
          verdict,
          fields,
          result: {
            errors: [new GraphQLError(`This operation asks for fields your policy denies for purpose ${identity.purpose}: ${fields.denied.join(', ')}.${underOtherPurposes(identity, fields.denied)}`, {
              // Refused by policy, not malformed: 403, like a purpose the consumer may not use.
              extensions: { code: ErrorCode.FORBIDDEN, deniedFields: fields.denied, http: { status: 403 } },
            })],
          },
        };
      case 'filtered': {
        const executed = verdict.document ? executedFor(verdict.document, verdict.queryHash, verdict.placeholder) : undefined;
        const result = executed
          ? await run(executed)
          : { data: {} };
        const forbidden = restoreDeniedFields(result.data, verdict.denied)
          .map(({ message, path, extensions }) => new GraphQLError(`${message}${underOtherPurposes(identity, [extensions.field])}`, { path, extensions }));
        const errors = [...forbidden, ...(result.errors ?? [])];
        // GraphQL answers carry `errors` only when there are some (a denied field under a null
        // parent has no place in the answer, hence no error).
        return { result: errors.length > 0 ? { ...result, errors } : result, verdict, fields, ...(executed ? { executed } : {}) };
      }
    }
  };

  const policyExecutor = (executor: GatewayExecutor): GatewayExecutor => async (requestContext) => {
    const { identity, access } = requestContext.context as Partial<GatewayContext>;
    // Authentication sets the identity before execution; without one, nothing is answered.
    if (!identity) throw new GraphQLError('Not authenticated.', { extensions: { code: ErrorCode.UNAUTHENTICATED } });
    const schema = apiSchema;
    if (!schema) throw new GraphQLError('The gateway has no schema yet.', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
    const startedAt = new Date();
    const started = performance.now();
    const decided = await decideAndExecute(executor, requestContext, identity, schema);
    // Nothing leaves before it is accounted for (gateway/access-log.ts).
    const result = options.accessLog
      ? await options.accessLog.record({
        answeredDocument: decided.executed?.answered ?? requestContext.document,
        // As Apollo Server resolved it from the document (a request need not name its only operation).
        operationName: requestContext.operationName ?? requestContext.request.operationName ?? undefined,
        queryHash: requestContext.queryHash,
        variables: requestContext.request.variables,
        identity,
        verdict: decided.verdict,
        fields: decided.fields,
        result: decided.result,
        servedSubjects: access?.servedSubjects ?? new Set(),
        startedAt,
        durationMs: performance.now() - started,
      })
      : decided.result;
    if (access) access.recorded = true;
    // What the gateway added for its own use is not the consumer's to receive.
    if (decided.executed && decided.executed.added.length > 0) removeAliased(result.data, decided.executed.added);
    // Every answer says which policy version decided it and under which request id it is recorded.
    return { ...result, extensions: { ...result.extensions, credence: { policyVersion: identity.policy.version, requestId: identity.requestId } } };
  };

  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate((schemaContext) => {
      apiSchema = schemaContext.apiSchema;
      plannerKeys = plannerKeysOf(schemaContext.coreSupergraphSdl);
      callback(schemaContext);
    }),
    load: async (options) => {
      const { executor } = await gateway.load(options);
      return { executor: executor && policyExecutor(executor) };
    },
    stop: () => gateway.stop(),
  };
}

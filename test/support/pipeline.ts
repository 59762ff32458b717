/**
 * What the pipeline's stage tests share: the API schema and the shipped policy, a request's
 * identity as the context stages build it (a real assertion signer), an execution as the
 * GatewayInterface starts it, and @apollo/gateway's executor stood in for by graphql-js executing
 * the prepared document in process over a fixed answer (what the departments would return), so
 * that a test sees exactly the document the stages hand to the planner.
 */
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { execute, parse, print, type DocumentNode, type GraphQLSchema } from 'graphql';
import { createAssertionSigner, generateAssertionKeyPair } from '../../lib/identity/assertion.ts';
import { documentHash } from '../../lib/graphql/document-hash.ts';
import { loadPolicy } from '../../lib/policy/loading/load-policy.ts';
import type { CompiledPolicy } from '../../lib/policy/decision/model.ts';
import { DEFAULT_POLICIES_DIR } from '../../lib/policy/releases/process-policy.ts';
import type { AccessEntry } from '../../lib/access-log/record.ts';
import type { AccessLogWriter } from '../../lib/access-log/writer.ts';
import type { Execution, RequestIdentity } from '../../gateway/stages/stage.ts';
import { loadApiSchema } from './policy-operations.ts';
import { plannerKeysOf, type PlannerKeys } from '../../gateway/planner-keys.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_SUPERGRAPH_PATH } from '../../lib/policy/releases/process-policy.ts';

export const schema: GraphQLSchema = loadApiSchema();
/** The planner's keys on the shipped supergraph, as the gateway reads them on schema load. */
export const plannerKeys: PlannerKeys = plannerKeysOf(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));

let shipped: Promise<CompiledPolicy> | undefined;

/** The policy shipped in policies/. */
export function shippedPolicy(): Promise<CompiledPolicy> {
  shipped ??= loadPolicy(DEFAULT_POLICIES_DIR, schema).then((loaded) => {
    if (!loaded.ok)
      throw new Error(`the shipped policy does not load: ${loaded.errors.map(({ message }) => message).join('; ')}`);
    return loaded.policy;
  });
  return shipped;
}

const keys = generateAssertionKeyPair();
export const signer = createAssertionSigner({ privateKey: keys.privateKeyPem, keyId: keys.keyId });

export function identityOf(
  policy: CompiledPolicy,
  consumerId: string,
  purpose: string,
  requestId = 'request-1',
): RequestIdentity {
  const consumer = policy.consumers.get(consumerId);
  const view = policy.view(consumerId, purpose);
  if (!consumer || !view) throw new Error(`${consumerId} has no view under ${purpose}`);
  const asserted = { consumer: consumerId, purpose, policyVersion: policy.version, requestId };
  return {
    consumer,
    purpose,
    policy,
    view,
    requestId,
    assertionFor: (department, request) => signer.sign(asserted, { audience: department, request }),
  };
}

/** What the stand-in for @apollo/gateway's executor was handed, call by call. */
export interface Handed {
  documents: DocumentNode[];
  queryHashes: string[];
}

/** An executor that executes the document it is handed over `data` (keyed by field name, as departments answer), recording what it was handed. */
export function answering(
  data: Record<string, unknown>,
  handed: Handed = { documents: [], queryHashes: [] },
): GatewayExecutor {
  return async (requestContext) => {
    handed.documents.push(requestContext.document);
    handed.queryHashes.push(requestContext.queryHash);
    return execute({
      schema,
      document: requestContext.document,
      rootValue: structuredClone(data),
      variableValues: requestContext.request.variables,
    }) as Promise<{ data?: Record<string, unknown> | null }>;
  };
}

export function executionOf(
  query: string | DocumentNode,
  identity: RequestIdentity,
  executor: GatewayExecutor,
  variables?: Record<string, unknown>,
  queryHash?: string,
  on: { apiSchema: GraphQLSchema; plannerKeys: PlannerKeys } = { apiSchema: schema, plannerKeys },
): Execution {
  const document = typeof query === 'string' ? parse(query) : query;
  const requestContext = {
    document,
    source: typeof query === 'string' ? query : undefined,
    queryHash: queryHash ?? documentHash(typeof query === 'string' ? query : print(query)),
    request: { query: typeof query === 'string' ? query : print(query), variables },
    context: {},
  } as unknown as GatewayGraphQLRequestContext;
  return {
    requestContext,
    identity,
    access: { servedSubjects: new Set(), recorded: false },
    apiSchema: on.apiSchema,
    plannerKeys: on.plannerKeys,
    executor,
    document,
    variables,
    verdict: null,
    fields: { fields: [], denied: [], masked: [] },
    added: [],
  };
}

/** An access-log writer that keeps what it is given in memory (the store-backed writer has tests of its own), or refuses every record. */
export function writerKeeping(entries: AccessEntry[], refuse = false): AccessLogWriter {
  return {
    chain: 'test-chain',
    instance: 'test',
    append: async (entry) => {
      if (refuse) throw new Error('the store does not answer');
      entries.push(entry);
    },
    ping: async () => true,
    close: async () => {},
  };
}
export const signerPublicKeyPem = keys.publicKeyPem;
export const signerKeyId = keys.keyId;

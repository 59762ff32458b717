/**
 * Stage: the policy decision, before planning. Apollo Server has parsed and validated the
 * operation; the consumer's view decides it (policy-check.ts): allowed as it is; rejected whole
 * (reject mode), answered FORBIDDEN with the denied fields; or filtered (filter mode), the denied
 * fields cut out of the document so that no department is ever asked for them (the denied-fields
 * stage puts them back as null). Introspection is answered here from the consumer's own schema, in
 * which the fields it may never see under this purpose do not exist; mixed with data, it is
 * refused. A decision depends only on (policy version, view, mode, operation): made once, cached.
 *
 * On the way out, the stage that decided the masks says where they fell: the paths of the
 * values the consumer received masked go in `extensions.credence.masked` (masked-paths.ts), read
 * once the answer has the caller's keys back and its denied fields restored.
 */
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import { execute, type DocumentNode, type GraphQLSchema } from 'graphql';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';
import { LruCache, PARSED_BYTES_PER_CHARACTER, type NamedCaches } from '../../lib/lru-cache.ts';
import { collectRequestedFields } from '../../lib/policy/decision/operation-fields.ts';
import { consumerSchema } from '../../lib/schema/consumer-schema.ts';
import { maskedPaths } from '../masked-paths.ts';
import { accountFields, checkOperation, type FieldAccounting, type PolicyVerdict } from '../policy-check.ts';
import { executionDocumentHash, type RequestIdentity, type Stage } from './stage.ts';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** The estimated bytes each per-document cache of the gateway may hold. */
export const DOCUMENT_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * How the gateway answers one operation for one policy version, consumer view and mode, with what
 * the access log records of it: decided on the operation's first request, then cached.
 */
type OperationDecision =
  /** Introspection alone is answered from the consumer's own schema; mixed with data, it is refused. */
  { kind: 'introspection'; alone: boolean; fields: FieldAccounting } | { kind: 'checked'; verdict: PolicyVerdict };

function decideOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  identity: RequestIdentity,
): OperationDecision {
  const requested = collectRequestedFields(schema, document, operationName);
  const roots = requested.filter(({ path }) => path.length === 1).map(({ fieldName }) => fieldName);
  if (roots.some((name) => INTROSPECTION_FIELDS.has(name))) {
    const alone = roots.every((name) => INTROSPECTION_FIELDS.has(name) || name === '__typename');
    return { kind: 'introspection', alone, fields: accountFields(requested, identity.view) };
  }
  return {
    kind: 'checked',
    verdict: checkOperation(schema, document, operationName, identity.view, identity.consumer.mode, requested),
  };
}

/**
 * For a refusal: the denied fields the consumer may see under another of its purposes, and which
 * (a field it may see under none never gets here: it does not exist for it, consumer-validation.ts).
 */
export function underOtherPurposes(identity: RequestIdentity, coordinates: readonly string[]): string {
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

export function policyDecisionStage(caches?: NamedCaches): Stage {
  const decisions = new LruCache<OperationDecision>({ maxEntries: 2000, maxBytes: DOCUMENT_CACHE_BYTES });
  const schemas = new LruCache<GraphQLSchema>({ maxEntries: 200 });
  caches?.set('decisions', decisions).set('consumer_schemas', schemas);
  return {
    name: 'policy decision',
    async prepare(execution) {
      const { requestContext, identity, apiSchema } = execution;
      const operationName = requestContext.request.operationName ?? undefined;
      // The operation's shape when the literal-arguments stage made one: one decision for all its requests.
      const document = execution.document ?? requestContext.document;
      // What a cached decision of this operation holds, estimated from its source.
      const bytes = (requestContext.source?.length ?? 0) * PARSED_BYTES_PER_CHARACTER;
      const decision = decisions.get(
        `${identity.policy.version}|${identity.view.key}|${identity.consumer.mode}|${operationName ?? ''}|${executionDocumentHash(execution, document)}`,
        () => decideOperation(apiSchema, document, operationName, identity),
        bytes,
      );
      if (decision.kind === 'introspection') {
        execution.verdict = null;
        execution.fields = decision.fields;
        if (!decision.alone)
          return {
            errors: [
              codedError(
                ErrorCode.BAD_REQUEST,
                'Send introspection in an operation of its own.',
                {},
                { inAnswer: true },
              ),
            ],
          };
        // Only the views of the last few policy versions are asked for; the cache keeps those.
        const schema = schemas.get(`${identity.policy.version}|${identity.view.key}`, () =>
          consumerSchema(apiSchema, identity.view),
        );
        return await (execute({
          schema,
          document,
          operationName,
          variableValues: execution.variables,
        }) as Promise<GatewayExecutionResult>);
      }
      const { verdict } = decision;
      execution.verdict = verdict;
      execution.fields = verdict.fields;
      switch (verdict.kind) {
        case 'allowed':
          return undefined;
        case 'rejected': {
          const { denied } = verdict.fields;
          return {
            // Refused by policy, not malformed: 403, like a purpose the consumer may not use.
            errors: [
              codedError(
                ErrorCode.FORBIDDEN,
                `This operation asks for fields your policy denies for purpose ${identity.purpose}: ${denied.join(', ')}.${underOtherPurposes(identity, denied)}`,
                {
                  deniedFields: denied,
                },
              ),
            ],
          };
        }
        case 'filtered':
          execution.document = verdict.document;
          // The placeholders where the filter emptied a selection set go with the gateway's other additions.
          execution.added.push(verdict.placeholder);
          return undefined;
      }
    },
    finish(execution, answer) {
      // Introspection (no verdict) has no masked values; a rejected operation has no data.
      if (!execution.verdict) return answer;
      const { requestContext, identity, apiSchema } = execution;
      const masked = maskedPaths(
        apiSchema,
        requestContext.document,
        requestContext.operationName ?? requestContext.request.operationName ?? undefined,
        identity.view,
        answer.data,
      );
      if (masked.length === 0) return answer;
      const credence = answer.extensions?.credence as Record<string, unknown> | undefined;
      return { ...answer, extensions: { ...answer.extensions, credence: { ...credence, masked } } };
    },
  };
}

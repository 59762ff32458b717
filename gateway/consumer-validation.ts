/**
 * Validation against what the consumer may see. Apollo Server validates every operation against
 * the whole API schema, so its errors could name fields and types a consumer may never see (for
 * the central bank, that `Query.accessLog` exists and what it returns). Before Apollo validates,
 * the operation is validated here against the consumer's own schema: the fields it may see under
 * at least one of its purposes. A field it may see under none behaves exactly like a field that
 * does not exist; a field it may see under another of its purposes passes, and the policy check
 * refuses it as FORBIDDEN, naming that purpose (policy-gateway.ts).
 *
 * Decided once per (policy version, consumer, document) and cached; a repeated operation costs a
 * hash of its text and a map lookup.
 */
import { createHash } from 'node:crypto';
import { MapperKind, mapSchema, pruneSchema } from '@graphql-tools/utils';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LruCache } from '../lib/lru-cache.ts';
import type { RequestIdentity } from './policy-gateway.ts';

/** The API schema with only the fields `identity`'s consumer may see under some purpose (its types left empty pruned). */
function seenUnderSomePurpose(apiSchema: GraphQLSchema, identity: RequestIdentity): GraphQLSchema {
  const views = identity.consumer.purposes.map((purpose) => identity.policy.view(identity.consumer.id, purpose)).filter((view) => view !== undefined);
  return pruneSchema(mapSchema(apiSchema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => (views.some((view) => view.field(typeName, fieldName).effect !== 'deny') ? config : null),
  }));
}

/** graphql-js's "Did you mean" hints name fields: the consumer gets none (as Apollo Server's hideSchemaDetailsFromClientErrors does). */
function withoutHints(message: string): string {
  return message.replace(/ Did you mean .+\?$/, '');
}

export interface ConsumerValidator {
  /** The refusal of `query` for this consumer (GRAPHQL_VALIDATION_FAILED, 400), or undefined when it is valid for it or does not parse. */
  check(apiSchema: GraphQLSchema, query: string, identity: RequestIdentity): GraphQLError | undefined;
}

export function createConsumerValidator(): ConsumerValidator {
  const schemas = new LruCache<GraphQLSchema>({ maxEntries: 200 });
  const verdicts = new LruCache<GraphQLError | null>({ maxEntries: 10_000 });
  return {
    check(apiSchema, query, identity) {
      const key = `${identity.policy.version}|${identity.consumer.id}`;
      const verdict = verdicts.get(`${key}|${createHash('sha256').update(query).digest('base64url')}`, () => {
        let document: DocumentNode;
        try {
          document = parse(query, { noLocation: true });
        } catch {
          // Apollo Server reports the syntax error itself, with its position.
          return null;
        }
        const schema = schemas.get(key, () => seenUnderSomePurpose(apiSchema, identity));
        const [error] = validate(schema, document, undefined, { maxErrors: 1 });
        return error
          ? new GraphQLError(withoutHints(error.message), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } })
          : null;
      });
      return verdict ?? undefined;
    },
  };
}

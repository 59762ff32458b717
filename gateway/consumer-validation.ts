/**
 * Validation against what the consumer may see. Apollo Server validates every operation against
 * the whole API schema, so its errors could name fields and types a consumer may never see (for
 * the central bank, that `Query.accessLog` exists and what it returns). Before Apollo validates,
 * the document is read here against the consumer's own view of the schema: the fields it may see
 * under at least one of its purposes. A field it may see under none, or an object type none of
 * whose fields it may see, is answered exactly as GraphQL answers one that does not exist, and
 * nothing further is validated; a field it may see under another of its purposes passes, and the
 * policy check refuses it as FORBIDDEN, naming that purpose (stages/policy-decision.ts).
 *
 * Decided once per (policy version, consumer, document) and cached; a repeated operation costs a
 * hash of its text and a map lookup.
 */
import {
  BREAK,
  TypeInfo,
  type GraphQLError,
  isInterfaceType,
  isObjectType,
  parse,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { codedError, ErrorCode } from '../lib/error-registry.ts';
import { LruCache, type NamedCaches } from '../lib/lru-cache.ts';
import type { RequestIdentity } from './stages/stage.ts';
import { documentHash } from '../lib/graphql/document-hash.ts';

/** As GraphQL validation words it, at the node's location: an answer no different from a missing field's. */
function validationFailure(message: string, node: ASTNode): GraphQLError {
  return codedError(ErrorCode.GRAPHQL_VALIDATION_FAILED, message, {}, { nodes: node });
}

/** The first field or object type of `document` that does not exist for the consumer, as GraphQL words its absence. */
function firstHidden(
  schema: GraphQLSchema,
  document: DocumentNode,
  identity: RequestIdentity,
): GraphQLError | undefined {
  const views = identity.consumer.purposes
    .map((purpose) => identity.policy.view(identity.consumer.id, purpose))
    .filter((view) => view !== undefined);
  const seen = (typeName: string, fieldName: string): boolean =>
    views.some((view) => view.field(typeName, fieldName).effect !== 'deny');
  // Root types and introspection's own types exist for everyone (`{ __typename }` is always valid).
  const roots = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((type) => type?.name),
  );
  const typeSeen = (type: GraphQLNamedType): boolean =>
    !isObjectType(type) ||
    type.name.startsWith('__') ||
    roots.has(type.name) ||
    Object.keys(type.getFields()).some((fieldName) => seen(type.name, fieldName));
  const typeInfo = new TypeInfo(schema);
  let hidden: GraphQLError | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      NamedType(node) {
        const type = schema.getType(node.name.value);
        if (type && !typeSeen(type)) {
          hidden = validationFailure(`Unknown type "${node.name.value}".`, node);
          return BREAK;
        }
        return undefined;
      },
      Field(node) {
        const parent = typeInfo.getParentType();
        const name = node.name.value;
        if (
          !parent ||
          name.startsWith('__') ||
          parent.name.startsWith('__') ||
          !(isObjectType(parent) || isInterfaceType(parent)) ||
          !Object.hasOwn(parent.getFields(), name)
        )
          return undefined;
        if (seen(parent.name, name)) return undefined;
        hidden = validationFailure(`Cannot query field "${name}" on type "${parent.name}".`, node);
        return BREAK;
      },
    }),
  );
  return hidden;
}

export interface ConsumerValidator {
  /** The refusal of `query` for this consumer (GRAPHQL_VALIDATION_FAILED, 400), or undefined when nothing in it is hidden from it or it does not parse. */
  check(apiSchema: GraphQLSchema, query: string, identity: RequestIdentity): GraphQLError | undefined;
}

export function createConsumerValidator(caches?: NamedCaches): ConsumerValidator {
  const verdicts = new LruCache<GraphQLError | null>({ maxEntries: 10_000 });
  caches?.set('validations', verdicts);
  return {
    check(apiSchema, query, identity) {
      const key = `${identity.policy.version}|${identity.consumer.id}|${documentHash(query)}`;
      const verdict = verdicts.get(key, () => {
        let document: DocumentNode;
        try {
          document = parse(query);
        } catch {
          // Apollo Server reports the syntax error itself, with its position.
          return null;
        }
        return firstHidden(apiSchema, document, identity) ?? null;
      });
      return verdict ?? undefined;
    },
  };
}

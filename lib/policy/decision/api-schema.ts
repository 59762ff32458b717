/**
 * The schema policies are written against: the API schema of the supergraph, that is what
 * partner agencies can query, without federation's join machinery.
 *
 * Built with `@apollo/federation-internals`, the library `@apollo/gateway` itself uses to turn the
 * supergraph into the schema it serves. Stripping `@join__*` directives by hand and calling
 * `buildASTSchema` would also work today, but would silently keep `@inaccessible` fields and
 * `join__`/`link__` types in the schema; using the gateway's own code keeps the two schemas equal
 * by construction.
 */
import { Supergraph } from '@apollo/federation-internals';
import {
  getNamedType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import type { GraphQLField, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema } from 'graphql';

/** A type whose fields a policy decides. */
export type PolicyType = GraphQLObjectType | GraphQLInterfaceType;

export function buildApiSchema(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/**
 * Names federation uses in subgraph schemas. They are not policy subjects: subgraphs allow
 * `_service` and `_entities` themselves and guard the entity fields those reach.
 */
const FEDERATION_TYPES = new Set(['_Service', '_Entity', '_Any', 'FieldSet', 'link__Import', 'federation__FieldSet']);
const FEDERATION_QUERY_FIELDS = new Set(['_entities', '_service']);

export function isFederationInternal(typeName: string, fieldName?: string): boolean {
  if (FEDERATION_TYPES.has(typeName) || typeName.startsWith('join__') || typeName.startsWith('link__')) return true;
  return typeName === 'Query' && fieldName !== undefined && FEDERATION_QUERY_FIELDS.has(fieldName);
}

/** The federation key every department joins on: always visible, never denied or masked. */
export const KEY_FIELD = { typeName: 'Subject', fieldName: 'uscc' } as const;

export function isAlwaysAllowed(typeName: string, fieldName: string): boolean {
  return fieldName === '__typename' || (typeName === KEY_FIELD.typeName && fieldName === KEY_FIELD.fieldName);
}

/**
 * Object types whose fields policies decide, in name order (the root `Query` included). Interfaces
 * are included too: a field selected through an interface is decided as `Interface.field`.
 */
export function policyTypes(schema: GraphQLSchema): PolicyType[] {
  const types: PolicyType[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if ((isObjectType(type) || isInterfaceType(type)) && !isIntrospectionType(type) && !isFederationInternal(type.name))
      types.push(type);
  }
  return types.sort((a, b) => a.name.localeCompare(b.name));
}

/** The fields of a type that policies decide, in declaration order. */
export function policyFields(type: PolicyType): GraphQLField<unknown, unknown>[] {
  return Object.values(type.getFields()).filter((field) => !isFederationInternal(type.name, field.name));
}

/** Masks turn a value into a string, so they only fit single String or ID values. */
export function isMaskable(field: GraphQLField<unknown, unknown>): boolean {
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  return !isListType(type) && isScalarType(type) && (type.name === 'String' || type.name === 'ID');
}

/** The type a field returns, when policies decide its fields (`[AnnualReport!]!` -> AnnualReport). */
export function policyTypeOf(field: GraphQLField<unknown, unknown>): PolicyType | undefined {
  const named = getNamedType(field.type);
  return isObjectType(named) || isInterfaceType(named) ? named : undefined;
}

/** The policy type of that name, if the schema has one. */
export function getPolicyType(schema: GraphQLSchema, typeName: string): PolicyType | undefined {
  const type = schema.getType(typeName);
  if (!type || isIntrospectionType(type) || isFederationInternal(typeName)) return undefined;
  return isObjectType(type) || isInterfaceType(type) ? type : undefined;
}

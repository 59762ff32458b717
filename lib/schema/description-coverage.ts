/**
 * Which parts of the API schema have no description: every type, field, argument, input field
 * and enum value a consumer can see must say what it is, in its unit and format (the catalog
 * item and the disclosure rule are added per consumer, consumer-schema.ts). A test holds the
 * shipped schema at 100%.
 */
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from 'graphql';
import { isFederationInternal } from '../policy/decision/api-schema.ts';

export interface DescriptionCoverage {
  /** Schema coordinates that need a description. */
  total: number;
  /** Those that have none, in schema order. */
  missing: string[];
  /** Per kind of coordinate: [described, total]. */
  byKind: Record<'types' | 'fields' | 'arguments' | 'enumValues' | 'inputFields', [number, number]>;
}

const described = (text: string | null | undefined): boolean => (text ?? '').trim().length > 0;

export function descriptionCoverage(schema: GraphQLSchema): DescriptionCoverage {
  const missing: string[] = [];
  const byKind: DescriptionCoverage['byKind'] = {
    types: [0, 0],
    fields: [0, 0],
    arguments: [0, 0],
    enumValues: [0, 0],
    inputFields: [0, 0],
  };
  const count = (
    kind: keyof DescriptionCoverage['byKind'],
    coordinate: string,
    text: string | null | undefined,
  ): void => {
    byKind[kind][1] += 1;
    if (described(text)) byKind[kind][0] += 1;
    else missing.push(coordinate);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type) || isFederationInternal(type.name)) continue;
    // The root types are described by their fields.
    if (!['Query', 'Mutation', 'Subscription'].includes(type.name)) count('types', type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (isFederationInternal(type.name, field.name)) continue;
        count('fields', `${type.name}.${field.name}`, field.description);
        for (const arg of field.args) count('arguments', `${type.name}.${field.name}(${arg.name}:)`, arg.description);
      }
    }
    if (isInputObjectType(type))
      for (const field of Object.values(type.getFields()))
        count('inputFields', `${type.name}.${field.name}`, field.description);
    if (isEnumType(type))
      for (const value of type.getValues()) count('enumValues', `${type.name}.${value.name}`, value.description);
  }
  const total = Object.values(byKind).reduce((sum, [, all]) => sum + all, 0);
  return { total, missing, byKind };
}

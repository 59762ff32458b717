/**
 * R1 against the schema: every field of the API schema belongs to exactly one catalog item, and
 * every field an item names exists. Also checks the measures list against the schema (its list
 * types are values of `ListType`). Policy loading runs these checks, so that `npm run policy --
 * validate`, the gateway and every department refuse a policy over a schema the catalog does not
 * cover; the result is cached per schema, so a policy version costs one map lookup.
 */
import { getNamedType, isEnumType } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { policyFields, policyTypes } from '../decision/api-schema.ts';
import { itemPlace, loadCatalog } from './catalog.ts';
import type { Catalog, RecordKinds } from './catalog.ts';
import { loadMeasures, measurePlace } from './measures.ts';
import type { MeasuresList } from './measures.ts';
import { suggestion } from '../loading/problems.ts';
import type { PolicyProblem } from '../loading/problems.ts';
import { RECORD_TYPES } from '../decision/records.ts';
import { ProblemSink } from '../loading/yaml-source.ts';
import type { Place } from '../loading/yaml-source.ts';

/** The catalog and measures list a policy is checked with. */
export interface ReferenceData {
  catalog: Catalog;
  measures: MeasuresList;
}

/**
 * `Type.field` of every field the catalog must cover: the fields of the object and interface types
 * policies decide. Root mutation and subscription fields are operations, not information: what
 * they return is made of catalogued types.
 */
export function catalogueableFields(schema: GraphQLSchema): string[] {
  const operations = new Set(
    [schema.getMutationType()?.name, schema.getSubscriptionType()?.name].filter((name) => name !== undefined),
  );
  return policyTypes(schema)
    .filter((type) => !operations.has(type.name))
    .flatMap((type) => policyFields(type).map((field) => `${type.name}.${field.name}`));
}

function enumValues(schema: GraphQLSchema, typeName: string): string[] | undefined {
  const type = schema.getType(typeName);
  return type && isEnumType(type) ? type.getValues().map((value) => value.name) : undefined;
}

/** The catalog's problems against a schema: unknown fields, fields in two items, fields in none, record items that do not fit. */
export function catalogProblems(schema: GraphQLSchema, catalog: Catalog): PolicyProblem[] {
  const sink = new ProblemSink(new Map([[catalog.file.name, catalog.file]]));
  const required = catalogueableFields(schema);
  const known = new Set(required);
  const owner = new Map<string, { code: string; place: Place }>();

  catalog.items.forEach((item, index) => {
    item.fields.forEach((field, position) => {
      const place = itemPlace(catalog, index, 'fields', position);
      if (!known.has(field)) {
        sink.error(
          place,
          'unknown-field',
          `catalog item ${item.code} names ${field}, which the schema does not have`,
          suggestion(field, required, 'field'),
        );
        return;
      }
      const earlier = owner.get(field);
      if (earlier) {
        sink.error(
          place,
          'duplicate-id',
          `${field} is already in catalog item ${earlier.code} (${sink.where(earlier.place)})`,
          'every field belongs to exactly one catalog item: remove it from one of them',
        );
      } else {
        owner.set(field, { code: item.code, place });
      }
    });
    for (const [key, enumName] of [
      ['category', 'CatalogCategory'],
      ['classification', 'InformationClassification'],
    ] as const) {
      const values = enumValues(schema, enumName);
      if (values && !values.includes(item[key])) {
        sink.error(
          itemPlace(catalog, index, key),
          'schema',
          `${item[key]} is not a value of the schema's ${enumName}`,
          `one of ${values.join(', ')}`,
        );
      }
    }
  });

  const itemsPlace: Place = { file: catalog.file.name, path: ['items'], key: true };
  for (const field of required) {
    if (!owner.has(field)) {
      sink.error(
        itemsPlace,
        'unknown-field',
        `${field} has no catalog item: every field of the schema must belong to one (R1)`,
        `add ${field} to the fields of the item it belongs to in ${catalog.file.name}, or add an item for it`,
      );
    }
  }
  recordTypeProblems(schema, catalog, sink);
  return sink.problems;
}

/** Each record type of the schema is catalogued by exactly one item, which covers its start date and whose windows fit. */
function recordTypeProblems(schema: GraphQLSchema, catalog: Catalog, sink: ProblemSink): void {
  const itemOf = new Map<string, number>();
  catalog.items.forEach((item, index) => {
    const recordType = item.recordType;
    if (recordType === undefined) return;
    const place = itemPlace(catalog, index, 'recordType');
    const description = RECORD_TYPES[recordType];
    if (!description || !schema.getType(recordType)) {
      sink.error(
        place,
        'unknown-type',
        `record type ${recordType} is not in the schema`,
        'remove recordType, or check that the supergraph is current',
      );
      return;
    }
    const earlier = itemOf.get(recordType);
    if (earlier !== undefined) {
      sink.error(
        place,
        'duplicate-id',
        `${recordType} is already catalogued by item ${catalog.items[earlier]?.code ?? ''}`,
        'one item per record type',
      );
      return;
    }
    itemOf.set(recordType, index);
    const start = `${recordType}.${description.startField}`;
    if (!item.fields.includes(start)) {
      sink.error(
        itemPlace(catalog, index, 'fields'),
        'unknown-field',
        `item ${item.code} catalogues ${recordType} records but not ${start}`,
        `list the record's fields, ${start} included, in this item`,
      );
    }
    if (item.disclosure.kind === 'bySeverity' && description.severityField !== undefined) {
      const severityType = fieldTypeName(schema, recordType, description.severityField);
      const levels = severityType ? (enumValues(schema, severityType) ?? []) : [];
      const given = Object.keys(item.disclosure.bySeverity);
      const missing = levels.filter((level) => !given.includes(level));
      const unknown = given.filter((level) => !levels.includes(level));
      if (missing.length > 0 || unknown.length > 0) {
        sink.error(
          itemPlace(catalog, index, 'disclosure'),
          'schema',
          `windows by severity must name each of ${levels.join(', ')}${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}${unknown.length > 0 ? `; unknown ${unknown.join(', ')}` : ''}`,
          'a severity without a window would fall back silently',
        );
      }
    }
    if (item.kinds !== undefined) kindsProblems(schema, catalog, index, recordType, item.kinds, sink);
  });
  for (const recordType of Object.keys(RECORD_TYPES)) {
    if (schema.getType(recordType) && !itemOf.has(recordType)) {
      sink.error(
        { file: catalog.file.name, path: ['items'], key: true },
        'not-a-record-type',
        `record type ${recordType} is catalogued by no item`,
        `give the item that covers ${recordType}'s fields recordType: ${recordType}`,
      );
    }
  }
}

/** An item's record kinds name an enum field of its record type, and only values of that enum. */
function kindsProblems(
  schema: GraphQLSchema,
  catalog: Catalog,
  index: number,
  recordType: string,
  kinds: RecordKinds,
  sink: ProblemSink,
): void {
  const enumName = fieldTypeName(schema, recordType, kinds.field);
  const values = enumName ? enumValues(schema, enumName) : undefined;
  if (!values) {
    sink.error(
      itemPlace(catalog, index, 'kinds', 'field'),
      'unknown-field',
      `${recordType}.${kinds.field} is not an enum field`,
      'name the enum field that tells the kinds apart, for example listType',
    );
    return;
  }
  kinds.values.forEach((value, position) => {
    if (!values.includes(value)) {
      sink.error(
        itemPlace(catalog, index, 'kinds', 'values', position),
        'schema',
        `${value} is not a value of the schema's ${enumName}`,
        `one of ${values.join(', ')}`,
      );
    }
  });
}

function fieldTypeName(schema: GraphQLSchema, recordType: string, fieldName: string): string | undefined {
  const type = policyTypes(schema).find((candidate) => candidate.name === recordType);
  const field = type?.getFields()[fieldName];
  return field ? getNamedType(field.type).name : undefined;
}

/** The measures list's problems against a schema: list types that `ListType` lacks. */
export function measuresProblems(schema: GraphQLSchema, list: MeasuresList): PolicyProblem[] {
  const sink = new ProblemSink(new Map([[list.file.name, list.file]]));
  const listTypes = enumValues(schema, 'ListType');
  if (!listTypes) return sink.problems;
  list.measures.forEach((measure, index) => {
    measure.listTypes.forEach((listType, position) => {
      if (!listTypes.includes(listType)) {
        sink.error(
          measurePlace(list, index, 'listTypes', position),
          'unknown-type',
          `${listType} is not a value of ListType`,
          suggestion(listType, listTypes, 'list type'),
        );
      }
    });
  });
  return sink.problems;
}

let shipped: ReferenceData | undefined;

/** The shipped catalog and measures list, read and checked once per process; throws a ReferenceDataError when one is invalid. */
export function shippedReferenceData(): ReferenceData {
  return (shipped ??= { catalog: loadCatalog(), measures: loadMeasures() });
}

const checked = new WeakMap<GraphQLSchema, WeakMap<ReferenceData, PolicyProblem[]>>();

/** Both checks, cached per schema and reference data (both change only with a deployment). */
export function referenceDataProblems(schema: GraphQLSchema, data: ReferenceData): PolicyProblem[] {
  let bySchema = checked.get(schema);
  if (!bySchema) checked.set(schema, (bySchema = new WeakMap()));
  let problems = bySchema.get(data);
  if (!problems) {
    problems = [...catalogProblems(schema, data.catalog), ...measuresProblems(schema, data.measures)];
    bySchema.set(data, problems);
  }
  return problems;
}

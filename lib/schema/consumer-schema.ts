/**
 * The schema one consumer sees under one purpose, as its frontend developers read it: the API
 * schema without the fields its view denies (and the types left empty), each field's description
 * completed with what Credence knows about it for that consumer: its catalog item, the item's
 * classification and disclosure rule, the mask applied, and which records of a record list it
 * receives. The gateway answers introspection from it (the explorer shows it) and
 * `npm run schema -- sdl` prints it, so both say the same.
 */
import { MapperKind, mapSchema, pruneSchema } from '@graphql-tools/utils';
import { getNamedType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import {
  catalogItemOfField,
  catalogItemForRecordType,
  loadCatalog,
  type Catalog,
  type CatalogItem,
  type DisclosureRule,
} from '../policy/reference/catalog.ts';
import type { ConsumerView, FieldDecision, RecordRule } from '../policy/decision/model.ts';
import { RECORD_TYPES } from '../policy/decision/records.ts';

/** What the masks of masks.ts turn a value into, in the words a frontend developer needs. */
const MASK_FORMS: Readonly<Record<string, string>> = {
  ID_NUMBER: 'masked for you: the first 4 and last 4 characters stay, the rest are * (4101**********1234)',
  PHONE: 'masked for you: the first 3 and last 4 digits stay, the rest are * (138****5678)',
  NAME: 'masked for you: the first character stays, the rest are * (张**)',
  REDACT: 'masked for you: always the text ***',
};

export function describeDisclosure(rule: DisclosureRule): string {
  switch (rule.kind) {
    case 'none':
      return 'no public-display window';
    case 'days':
      return `publicly displayed for ${rule.days} days from the record's start`;
    case 'bySeverity':
      return `publicly displayed by severity: ${Object.entries(rule.bySeverity)
        .map(([severity, days]) => `${severity} ${days} days`)
        .join(', ')} from the record's start (0: never)`;
  }
}

function describeItem(item: CatalogItem): string {
  return `Catalog item ${item.code} (${item.name}; ${item.classification}, from ${item.department}; ${describeDisclosure(item.disclosure)}).`;
}

function describeRecords(rule: RecordRule): string {
  const which = rule.history
    ? 'current and past records (removed, expired and restored ones included)'
    : 'current records only (removed, expired and restored ones are left out)';
  return `You receive ${which}${rule.disclosureWindow ? ', and only inside their public disclosure window' : ''}. Records left out are not counted or announced (docs/frontend.md, "Withheld records").`;
}

/** The sentences Credence adds to one field's description for one view. */
export function fieldNotes(
  catalog: Catalog,
  view: ConsumerView | undefined,
  typeName: string,
  fieldName: string,
  returnType: string,
  decision?: FieldDecision,
): string[] {
  const notes: string[] = [];
  const item = catalogItemOfField(catalog, typeName, fieldName);
  if (item) notes.push(describeItem(item));
  if (decision?.effect === 'mask' && decision.mask)
    notes.push(
      `${MASK_FORMS[decision.mask] ?? 'masked for you'}; its path is listed in extensions.credence.masked.`.replace(
        /^./,
        (first) => first.toUpperCase(),
      ),
    );
  if (view && returnType in RECORD_TYPES && catalogItemForRecordType(catalog, returnType))
    notes.push(describeRecords(view.records(returnType)));
  return notes;
}

function withNotes(description: string | undefined | null, notes: readonly string[]): string | undefined {
  const parts = [description?.trim(), ...notes].filter((part): part is string => Boolean(part));
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/**
 * The API schema as one consumer sees it under one purpose: denied fields, and types left empty,
 * removed; descriptions completed with the catalog, masks and record rules (without a view: the
 * catalog notes only, for every field).
 */
export function consumerSchema(
  apiSchema: GraphQLSchema,
  view: ConsumerView | undefined,
  catalog: Catalog = loadCatalog(),
): GraphQLSchema {
  return pruneSchema(
    mapSchema(apiSchema, {
      [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => {
        const decision = view?.field(typeName, fieldName);
        if (decision?.effect === 'deny') return null;
        const notes = fieldNotes(catalog, view, typeName, fieldName, getNamedType(config.type).name, decision);
        return { ...config, description: withNotes(config.description, notes) };
      },
    }),
  );
}

/** The SDL of a consumer's schema, types in name order, with descriptions. */
export function consumerSdl(apiSchema: GraphQLSchema, view: ConsumerView | undefined, catalog?: Catalog): string {
  return printSchema(lexicographicSortSchema(consumerSchema(apiSchema, view, catalog)));
}

/**
 * The national catalog of public credit information (R1), as data: `schema/catalog.yaml`. Each
 * item says what may be recorded and shared (the API fields it covers), its category,
 * classification, source department, legal basis and public disclosure rule. That every API field
 * belongs to exactly one item is checked against the schema by catalog-coverage.ts.
 */
import type { Environment } from '../../config/read.ts';
import { DEFAULT_CATALOG_PATH, readSharedSettings } from '../../config/shared.ts';
import { DEFAULT_DISCLOSURE_WINDOWS, RECORD_TYPES } from '../decision/records.ts';
import type { DisclosureWindows } from '../decision/records.ts';
import type { PolicyProblem } from '../loading/problems.ts';
import { parseReferenceFile, readReferenceFile, ReferenceDataError } from './reference-data.ts';
import { child, parseYamlFile, ProblemSink } from '../loading/yaml-source.ts';
import type { Place, YamlFile } from '../loading/yaml-source.ts';
import { undecidedCatalogProblems } from './undecided.ts';

export { DEFAULT_CATALOG_PATH };

/**
 * The catalog this deployment runs on: `CREDENCE_CATALOG_PATH` when set (a national platform
 * that adapts disclosure windows or items ships its own file), else the shipped one. Every
 * process of a deployment must read the same file.
 */
export function configuredCatalogPath(env?: Environment): string {
  return readSharedSettings(env).catalogPath;
}

/** The catalog's categories; the GraphQL enum `CatalogCategory` lists the same values (tested). */
export const CATALOG_CATEGORIES = [
  'REGISTRATION',
  'JUDICIAL',
  'TAX',
  'ADMINISTRATIVE_PENALTY',
  'ENFORCEMENT_DOCUMENT',
  'SERIOUS_DISHONESTY_LIST',
  'CREDIT_RESTORATION',
  'PUNISHMENT_MEASURES',
  'CATALOG',
  'ACCESS_LOG',
] as const;
export type CatalogCategory = (typeof CATALOG_CATEGORIES)[number];

/** PUBLIC: anyone; SHARED: agencies for their purpose; RESTRICTED: personal information, trade secrets. */
export const CLASSIFICATIONS = ['PUBLIC', 'SHARED', 'RESTRICTED'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** How long an item's records are publicly displayed, in days from the record's start. */
export type DisclosureRule =
  | { kind: 'none' }
  | { kind: 'days'; days: number }
  | { kind: 'bySeverity'; bySeverity: Readonly<Record<string, number>> };

export interface CatalogItem {
  code: string;
  name: string;
  category: CatalogCategory;
  classification: Classification;
  /** The subgraph the information comes from. */
  department: string;
  legalBasis: string;
  /** The record type (decision/records.ts) the item catalogues, if its information is a record. */
  recordType?: string;
  /**
   * The kinds of record the catalog includes, by the value of one enum field (a listing's
   * `listType`, a penalty's `category`). A catalog edition that leaves a kind out lets no
   * department record it (R1), while records already made stay readable.
   */
  kinds?: RecordKinds;
  disclosure: DisclosureRule;
  /** `Type.field`, each listed on purpose (no wildcards: a new field must be catalogued). */
  fields: readonly string[];
}

export interface RecordKinds {
  field: string;
  values: readonly string[];
}

export interface Catalog {
  /** The parsed file, so that checks against the schema can point at lines and columns. */
  file: YamlFile;
  items: readonly CatalogItem[];
}

interface RawCatalog {
  /** As written in the file: the disclosure rule in its YAML shape. */
  items: (Omit<CatalogItem, 'disclosure' | 'fields' | 'kinds'> & {
    kinds?: { field: string; values: string[] };
    disclosure: 'none' | { days: number } | { bySeverity: Record<string, number> };
    fields: string[];
  })[];
}

const text = (description: string) => ({ type: 'string', minLength: 1, description });
const days = {
  type: 'integer',
  minimum: 0,
  description: "days of public display from the record's start; 0: never displayed",
};

export const CATALOG_JSON_SCHEMA = {
  type: 'object',
  required: ['items'],
  additionalProperties: false,
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'name', 'category', 'classification', 'department', 'legalBasis', 'disclosure', 'fields'],
        properties: {
          code: {
            type: 'string',
            pattern: '^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$',
            title: 'item code',
            description: 'upper-case words joined by hyphens, for example PEN-ADMINISTRATIVE-PENALTY',
          },
          name: text('what the item is, in words'),
          category: { enum: [...CATALOG_CATEGORIES], title: 'catalog category' },
          classification: { enum: [...CLASSIFICATIONS], title: 'classification' },
          department: {
            type: 'string',
            pattern: '^[a-z][a-z0-9-]*$',
            title: 'department',
            description: 'the subgraph name: registry, judicial, tax, penalties, credit or audit',
          },
          legalBasis: text('the law or regulation that allows recording the information'),
          recordType: { enum: Object.keys(RECORD_TYPES), title: 'record type' },
          kinds: {
            type: 'object',
            required: ['field', 'values'],
            additionalProperties: false,
            title: 'record kinds',
            description:
              'the kinds of record the catalog includes, by an enum field of the record type; writes of other kinds are refused',
            properties: {
              field: {
                type: 'string',
                pattern: '^[_A-Za-z][_0-9A-Za-z]*$',
                description: 'an enum field of the record type, for example listType',
              },
              values: {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { type: 'string', pattern: '^[_A-Za-z][_0-9A-Za-z]*$' },
              },
            },
          },
          disclosure: {
            oneOf: [
              { const: 'none' },
              { type: 'object', required: ['days'], additionalProperties: false, properties: { days } },
              {
                type: 'object',
                required: ['bySeverity'],
                additionalProperties: false,
                properties: { bySeverity: { type: 'object', minProperties: 1, additionalProperties: days } },
              },
            ],
            description: 'none, { days: N } or { bySeverity: { MINOR: 0, GENERAL: 365, SERIOUS: 1095 } }',
          },
          fields: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: {
              type: 'string',
              pattern: '^[_A-Za-z][_0-9A-Za-z]*\\.[_A-Za-z][_0-9A-Za-z]*$',
              title: 'field',
              description:
                'a field as Type.field; wildcards are not allowed, so that every new field is catalogued on purpose',
            },
          },
        },
      },
    },
  },
} as const;

function disclosureRule(raw: RawCatalog['items'][number]['disclosure']): DisclosureRule {
  if (raw === 'none') return { kind: 'none' };
  return 'days' in raw ? { kind: 'days', days: raw.days } : { kind: 'bySeverity', bySeverity: raw.bySeverity };
}

/** The place of item `index` (or of one of its keys) in the catalog file, for problems. */
export function itemPlace(catalog: Catalog, index: number, ...path: (string | number)[]): Place {
  return child({ file: catalog.file.name, path: ['items', index] }, ...path);
}

/** Checks that need only the file: unique codes, and disclosure rules that fit the item. */
function ownProblems(catalog: Catalog): PolicyProblem[] {
  const sink = new ProblemSink(new Map([[catalog.file.name, catalog.file]]));
  const codes = new Map<string, number>();
  catalog.items.forEach((item, index) => {
    const earlier = codes.get(item.code);
    if (earlier !== undefined) {
      sink.error(
        itemPlace(catalog, index, 'code'),
        'duplicate-id',
        `catalog item "${item.code}" is already defined at ${sink.where(itemPlace(catalog, earlier, 'code'))}`,
        'each item needs its own code',
      );
    } else {
      codes.set(item.code, index);
    }
    if (item.disclosure.kind !== 'none' && item.recordType === undefined) {
      sink.error(
        itemPlace(catalog, index, 'disclosure'),
        'schema',
        `item ${item.code} has a disclosure window but no recordType`,
        "a window runs from a record's start: name the recordType, or write disclosure: none",
      );
    }
    if (item.kinds !== undefined && item.recordType === undefined) {
      sink.error(
        itemPlace(catalog, index, 'kinds'),
        'schema',
        `item ${item.code} lists record kinds but no recordType`,
        "kinds select records of the item's recordType: name it",
      );
    }
    if (
      item.disclosure.kind === 'bySeverity' &&
      item.recordType !== undefined &&
      RECORD_TYPES[item.recordType]?.severityField === undefined
    ) {
      sink.error(
        itemPlace(catalog, index, 'disclosure'),
        'schema',
        `${item.recordType} records have no severity, so a window by severity cannot apply`,
        'write disclosure: { days: N }',
      );
    }
  });
  return sink.problems;
}

/** Parses and checks a catalog file's text (`name` is how problems name the file). */
export function parseCatalog(
  name: string,
  text: string,
): { ok: true; catalog: Catalog } | { ok: false; problems: PolicyProblem[] } {
  // Decisions left to an officer (`scaffold` drafts them as TODO) come first: a TODO classification
  // would otherwise read as a mere typo in the enum.
  const { file: draft, problems: syntax } = parseYamlFile(name, text);
  const undecided = syntax.length === 0 ? undecidedCatalogProblems(draft) : [];
  if (undecided.length > 0) return { ok: false, problems: undecided };
  const parsed = parseReferenceFile<RawCatalog>(name, text, CATALOG_JSON_SCHEMA);
  if (!parsed.ok) return parsed;
  const catalog: Catalog = {
    file: parsed.file,
    items: parsed.value.items.map((raw) => ({
      code: raw.code,
      name: raw.name,
      category: raw.category,
      classification: raw.classification,
      department: raw.department,
      legalBasis: raw.legalBasis,
      ...(raw.recordType !== undefined ? { recordType: raw.recordType } : {}),
      ...(raw.kinds !== undefined ? { kinds: raw.kinds } : {}),
      disclosure: disclosureRule(raw.disclosure),
      fields: raw.fields,
    })),
  };
  const problems = ownProblems(catalog);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, catalog };
}

const loaded = new Map<string, Catalog>();

/**
 * The catalog of a file (`configuredCatalogPath()` by default), read and checked once per
 * process: it ships with the schema and changes with a deployment, not at run time. Throws a
 * `ReferenceDataError` listing every problem with its line and column.
 */
export function loadCatalog(path: string = configuredCatalogPath()): Catalog {
  const cached = loaded.get(path);
  if (cached) return cached;
  const { name, text: contents } = readReferenceFile(path);
  const result = parseCatalog(name, contents);
  if (!result.ok) {
    const undecided = result.problems.filter((problem) => problem.code === 'undecided').length;
    throw new ReferenceDataError(
      `the catalog ${name}${undecided > 0 ? ` (${undecided} TODO left to decide)` : ''}`,
      result.problems,
    );
  }
  loaded.set(path, result.catalog);
  return result.catalog;
}

/** The item that catalogues a record type; undefined when the type is not in the catalog (R1: refuse its writes). */
export function catalogItemForRecordType(catalog: Catalog, recordType: string): CatalogItem | undefined {
  return catalog.items.find((item) => item.recordType === recordType);
}

/**
 * Each record type's item (the first, as `catalogItemForRecordType` finds it), for a process that
 * looks items up per request: the catalog is fixed for the life of the process.
 */
export function catalogItemsByRecordType(catalog: Catalog): ReadonlyMap<string, CatalogItem> {
  const items = new Map<string, CatalogItem>();
  for (const item of catalog.items) {
    if (item.recordType !== undefined && !items.has(item.recordType)) items.set(item.recordType, item);
  }
  return items;
}

/** The item a `Type.field` belongs to. */
export function catalogItemOfField(catalog: Catalog, typeName: string, fieldName: string): CatalogItem | undefined {
  const name = `${typeName}.${fieldName}`;
  return catalog.items.find((item) => item.fields.includes(name));
}

/** One record type's windows as records.ts reads them; `fallback` fills what the item does not set. */
function windowsOf(item: CatalogItem | undefined, fallback: DisclosureWindows): DisclosureWindows {
  switch (item?.disclosure.kind) {
    case 'days':
      return { bySeverity: fallback.bySeverity, default: item.disclosure.days };
    case 'bySeverity':
      return { bySeverity: item.disclosure.bySeverity, default: fallback.default };
    default:
      return fallback;
  }
}

/** Each catalogued record type's disclosure windows (the catalog's rule, DOMAIN.md defaults for the rest). */
export function disclosureWindowsByRecordType(catalog: Catalog): ReadonlyMap<string, DisclosureWindows> {
  return new Map(
    Object.keys(RECORD_TYPES).map((type) => [
      type,
      windowsOf(catalogItemForRecordType(catalog, type), DEFAULT_DISCLOSURE_WINDOWS),
    ]),
  );
}

/**
 * The catalog's disclosure windows in the one-table form `isRecordVisible` takes: `bySeverity`
 * from the item with windows by severity (penalties), `default` from the items with a plain
 * window (the shortest, should items differ: displaying less is the safe side of a privacy rule;
 * `disclosureWindowsByRecordType` gives each type its own).
 */
export function disclosureWindowsFromCatalog(catalog: Catalog): DisclosureWindows {
  let bySeverity: Readonly<Record<string, number>> | undefined;
  let plain: number | undefined;
  for (const item of catalog.items) {
    if (item.disclosure.kind === 'bySeverity') bySeverity ??= item.disclosure.bySeverity;
    if (item.disclosure.kind === 'days') plain = Math.min(plain ?? Infinity, item.disclosure.days);
  }
  return {
    bySeverity: bySeverity ?? DEFAULT_DISCLOSURE_WINDOWS.bySeverity,
    default: plain ?? DEFAULT_DISCLOSURE_WINDOWS.default,
  };
}

/**
 * The catalog and the measures list as the credit subgraph serves them (`Query.catalog`,
 * `Query.measures`): read once at start from the shipped YAML, shaped for GraphQL once, and
 * answered from memory on every request (no database, no per-request work).
 */
import { loadCatalog } from '../../lib/policy/reference/catalog.ts';
import type { CatalogItem, DisclosureRule, RecordKinds } from '../../lib/policy/reference/catalog.ts';
import { loadMeasures } from '../../lib/policy/reference/measures.ts';
import type { Measure } from '../../lib/policy/reference/measures.ts';

/** `DisclosureWindow` of the schema. */
export interface DisclosureWindowValue {
  severity: string | null;
  days: number;
}

/** `CatalogItem` of the schema. */
export interface CatalogItemValue {
  code: string;
  name: string;
  category: string;
  classification: string;
  department: string;
  legalBasis: string;
  recordType: string | null;
  kinds: RecordKinds | null;
  disclosureWindows: DisclosureWindowValue[] | null;
  fields: readonly string[];
}

function disclosureWindows(rule: DisclosureRule): DisclosureWindowValue[] | null {
  switch (rule.kind) {
    case 'none':
      return null;
    case 'days':
      return [{ severity: null, days: rule.days }];
    case 'bySeverity':
      return Object.entries(rule.bySeverity).map(([severity, days]) => ({ severity, days }));
  }
}

export function catalogItemValue(item: CatalogItem): CatalogItemValue {
  return {
    code: item.code,
    name: item.name,
    category: item.category,
    classification: item.classification,
    department: item.department,
    legalBasis: item.legalBasis,
    recordType: item.recordType ?? null,
    kinds: item.kinds ?? null,
    disclosureWindows: disclosureWindows(item.disclosure),
    fields: item.fields,
  };
}

let catalogValues: readonly CatalogItemValue[] | undefined;

/** The shipped catalog, as `Query.catalog` answers it. */
export function catalogValue(): readonly CatalogItemValue[] {
  return (catalogValues ??= loadCatalog().items.map(catalogItemValue));
}

/** The shipped measures list, as `Query.measures` answers it. */
export function measuresValue(): readonly Measure[] {
  return loadMeasures().measures;
}

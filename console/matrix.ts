/**
 * The matrix: consumers × purposes × the catalog's fields, each cell the compiled policy's own
 * decision (`view.field`, the lookup `policy explain` and the gateway use) with the rule that
 * made it and that rule's file and line; and the record rules per consumer and purpose.
 */
import type { GraphQLSchema } from 'graphql';
import { policyFields, policyTypes } from '../lib/policy/decision/api-schema.ts';
import { catalogItemOfField, type Catalog } from '../lib/policy/reference/catalog.ts';
import { describeRecordRule } from '../lib/policy/officers/coverage.ts';
import type { FieldDecision } from '../lib/policy/decision/model.ts';
import { RECORD_TYPES } from '../lib/policy/decision/records.ts';
import type { LoadedPolicy } from './releases.ts';

export interface MatrixFilter {
  consumer?: string;
  /** Part of a field's coordinate (`Subject.add`). */
  field?: string;
  department?: string;
  item?: string;
  dataClass?: string;
}

export interface RuleRef {
  id: string;
  file: string;
  line: number;
  description: string;
}

export interface MatrixCell extends FieldDecision {
  rule: RuleRef | null;
}

export interface MatrixColumn {
  consumer: string;
  purpose: string;
}

export interface MatrixRow {
  coordinate: string;
  department: string;
  item: string;
  dataClass: string;
  cells: MatrixCell[];
}

export interface Matrix {
  columns: MatrixColumn[];
  rows: MatrixRow[];
  totalRows: number;
  page: number;
  pages: number;
  records: { column: MatrixColumn; rules: { typeName: string; description: string; rule: RuleRef | null }[] }[];
  choices: {
    consumers: string[];
    departments: string[];
    items: { code: string; name: string }[];
    dataClasses: string[];
  };
}

export const MATRIX_PAGE_SIZE = 30;

export function buildMatrix(
  loaded: LoadedPolicy,
  schema: GraphQLSchema,
  catalog: Catalog,
  filter: MatrixFilter,
  page: number,
): Matrix {
  const { policy, rules } = loaded;
  const ruleRef = (ruleId: string | null): RuleRef | null => {
    if (ruleId === null) return null;
    const rule = rules.get(ruleId);
    return { id: ruleId, file: rule?.file ?? '', line: rule?.line ?? 0, description: rule?.description ?? '' };
  };
  const consumers = [...policy.consumers.values()];
  const columns = consumers
    .filter((consumer) => !filter.consumer || consumer.id === filter.consumer)
    .flatMap((consumer) => consumer.purposes.map((purpose) => ({ consumer: consumer.id, purpose })));
  const views = columns.map((column) => policy.view(column.consumer, column.purpose));
  const fields = policyTypes(schema)
    .flatMap((type) =>
      policyFields(type).map((field) => {
        const item = catalogItemOfField(catalog, type.name, field.name);
        return {
          typeName: type.name,
          fieldName: field.name,
          department: item?.department ?? '',
          item: item?.code ?? '',
          dataClass: item?.classification ?? '',
        };
      }),
    )
    .filter(
      (field) =>
        (!filter.department || field.department === filter.department) &&
        (!filter.item || field.item === filter.item) &&
        (!filter.field || `${field.typeName}.${field.fieldName}`.toLowerCase().includes(filter.field.toLowerCase())) &&
        (!filter.dataClass || field.dataClass === filter.dataClass),
    );
  const pages = Math.max(1, Math.ceil(fields.length / MATRIX_PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  const rows = fields.slice((current - 1) * MATRIX_PAGE_SIZE, current * MATRIX_PAGE_SIZE).map((field): MatrixRow => ({
    coordinate: `${field.typeName}.${field.fieldName}`,
    department: field.department,
    item: field.item,
    dataClass: field.dataClass,
    cells: views.map((view) => {
      const decision: FieldDecision = view
        ? view.field(field.typeName, field.fieldName)
        : { effect: 'deny', ruleId: null };
      return { ...decision, rule: ruleRef(decision.ruleId) };
    }),
  }));
  const records = columns.map((column, index) => ({
    column,
    rules: Object.keys(RECORD_TYPES)
      .sort()
      .map((typeName) => {
        const rule = views[index]?.records(typeName) ?? { ruleId: null, history: false, disclosureWindow: false };
        return { typeName, description: describeRecordRule(rule), rule: ruleRef(rule.ruleId) };
      }),
  }));
  return {
    columns,
    rows,
    totalRows: fields.length,
    page: current,
    pages,
    records,
    choices: {
      consumers: consumers.map((consumer) => consumer.id),
      departments: [...new Set(catalog.items.map((item) => item.department))].sort(),
      items: catalog.items.map((item) => ({ code: item.code, name: item.name })),
      dataClasses: [...new Set(catalog.items.map((item) => item.classification))].sort(),
    },
  };
}

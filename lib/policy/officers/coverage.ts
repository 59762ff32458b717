/**
 * The coverage report: for every consumer and purpose, every field of the API schema as visible,
 * masked or denied, and the record rule of every record type. What a privacy officer reads
 * before approving a policy change.
 */
import type { GraphQLSchema } from 'graphql';
import type { CompiledPolicy, ConsumerView, MaskName, RecordRule } from '../decision/model.ts';
import { policyFields, policyTypes } from '../decision/api-schema.ts';
import { RECORD_TYPES } from '../decision/records.ts';

export interface TypeCoverage {
  typeName: string;
  visible: string[];
  masked: { field: string; mask: MaskName }[];
  denied: string[];
}

export interface RecordCoverage {
  typeName: string;
  rule: RecordRule;
}

export interface ViewCoverage {
  consumer: string;
  purpose: string;
  mode: 'reject' | 'filter';
  types: TypeCoverage[];
  records: RecordCoverage[];
}

export function typeCoverage(view: ConsumerView, schema: GraphQLSchema): TypeCoverage[] {
  return policyTypes(schema).map((type) => {
    const coverage: TypeCoverage = { typeName: type.name, visible: [], masked: [], denied: [] };
    for (const field of policyFields(type)) {
      const decision = view.field(type.name, field.name);
      if (decision.effect === 'allow') coverage.visible.push(field.name);
      else if (decision.effect === 'mask') coverage.masked.push({ field: field.name, mask: decision.mask ?? 'REDACT' });
      else coverage.denied.push(field.name);
    }
    return coverage;
  });
}

export function recordCoverage(view: ConsumerView, schema: GraphQLSchema): RecordCoverage[] {
  return Object.keys(RECORD_TYPES)
    .filter((typeName) => schema.getType(typeName))
    .map((typeName) => ({ typeName, rule: view.records(typeName) }));
}

/** Every consumer and purpose of the policy, in the order the policy lists them. */
export function coverageReport(policy: CompiledPolicy, schema: GraphQLSchema): ViewCoverage[] {
  const report: ViewCoverage[] = [];
  for (const consumer of policy.consumers.values()) {
    for (const purpose of consumer.purposes) {
      const view = policy.view(consumer.id, purpose);
      if (!view) continue;
      report.push({
        consumer: consumer.id,
        purpose,
        mode: consumer.mode,
        types: typeCoverage(view, schema),
        records: recordCoverage(view, schema),
      });
    }
  }
  return report;
}

/** "current records only", "also history", "current, inside the disclosure window". */
export function describeRecordRule(rule: RecordRule): string {
  // A disclosure window only ever shows current records (decision/records.ts), whatever history says.
  if (rule.disclosureWindow) return 'current, inside the disclosure window';
  return rule.history ? 'current and history' : 'current only';
}

function describeType(type: TypeCoverage): string {
  const total = type.visible.length + type.masked.length + type.denied.length;
  if (type.visible.length === total) return 'all visible';
  if (type.denied.length === total) return 'all denied';
  const parts: string[] = [];
  if (type.visible.length > 0) parts.push(`visible: ${type.visible.join(' ')}`);
  if (type.masked.length > 0)
    parts.push(`masked: ${type.masked.map(({ field, mask }) => `${field}(${mask})`).join(' ')}`);
  if (type.denied.length > 0) parts.push(`denied: ${type.denied.join(' ')}`);
  return parts.join(' | ');
}

export function formatCoverage(report: readonly ViewCoverage[]): string {
  const lines: string[] = [];
  const width = Math.max(
    0,
    ...report.flatMap((view) => [
      ...view.types.map((type) => type.typeName.length),
      ...view.records.map((record) => record.typeName.length),
    ]),
  );
  for (const view of report) {
    lines.push(`${view.consumer} / ${view.purpose} (${view.mode} mode)`);
    for (const type of view.types) lines.push(`  ${type.typeName.padEnd(width)}  ${describeType(type)}`);
    lines.push('  records:');
    for (const record of view.records) {
      lines.push(
        `    ${record.typeName.padEnd(width)}  ${describeRecordRule(record.rule)} (${record.rule.ruleId ?? 'default'})`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

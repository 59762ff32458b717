/**
 * explain: what a consumer gets for each field of an operation under a purpose, and which rule
 * decided it. The same walk and the same decisions as the gateway's check.
 */
import { getNamedType, validate } from 'graphql';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { CompiledPolicy, Effect, MaskName, RecordRule } from '../decision/model.ts';
import { getPolicyType } from '../decision/api-schema.ts';
import { describeRecordRule } from './coverage.ts';
import type { RuleSummary } from '../loading/load-policy.ts';
import { collectRequestedFields } from '../decision/operation-fields.ts';
import { isRecordType } from '../decision/records.ts';

export interface ExplainedField {
  /** Response path, `.`-joined, `@` for list items: `subjects.@.name`. */
  path: string;
  /** `Type.field`. */
  coordinate: string;
  effect: Effect;
  mask?: MaskName;
  ruleId: string | null;
}

export type Explanation =
  | { kind: 'refused'; consumer: string; purpose: string; reason: string }
  | { kind: 'invalid'; errors: string[] }
  | {
      kind: 'explained';
      consumer: string;
      purpose: string;
      mode: 'reject' | 'filter';
      fields: ExplainedField[];
      records: { typeName: string; rule: RecordRule }[];
    };

export interface ExplainRequest {
  consumer: string;
  purpose: string;
  document: DocumentNode;
  operationName?: string;
}

export function explainOperation(policy: CompiledPolicy, schema: GraphQLSchema, request: ExplainRequest): Explanation {
  const { consumer: consumerId, purpose } = request;
  const consumer = policy.consumers.get(consumerId);
  if (!consumer)
    return { kind: 'refused', consumer: consumerId, purpose, reason: `no consumer "${consumerId}" in this policy` };
  const view = policy.view(consumerId, purpose);
  if (!view) {
    return {
      kind: 'refused',
      consumer: consumerId,
      purpose,
      reason: `${consumerId} may not use purpose ${purpose} (its purposes: ${consumer.purposes.join(', ')})`,
    };
  }
  const errors = validate(schema, request.document).map((error) => error.message);
  if (errors.length > 0) return { kind: 'invalid', errors };
  let requested;
  try {
    requested = collectRequestedFields(schema, request.document, request.operationName);
  } catch (error) {
    return { kind: 'invalid', errors: [(error as Error).message] };
  }
  const fields: ExplainedField[] = [];
  const recordTypes = new Set<string>();
  for (const field of requested) {
    if (field.fieldName === '__typename') continue;
    const decision = view.field(field.typeName, field.fieldName);
    fields.push({
      path: field.path.join('.'),
      coordinate: `${field.typeName}.${field.fieldName}`,
      effect: decision.effect,
      ...(decision.mask ? { mask: decision.mask } : {}),
      ruleId: decision.ruleId,
    });
    if (isRecordType(field.typeName)) recordTypes.add(field.typeName);
    const returned = getPolicyType(schema, field.typeName)?.getFields()[field.fieldName];
    const returnedType = returned ? getNamedType(returned.type).name : undefined;
    if (returnedType !== undefined && isRecordType(returnedType)) recordTypes.add(returnedType);
  }
  return {
    kind: 'explained',
    consumer: consumerId,
    purpose,
    mode: consumer.mode,
    fields,
    records: [...recordTypes].sort().map((typeName) => ({ typeName, rule: view.records(typeName) })),
  };
}

function describeEffect(field: { effect: Effect; mask?: MaskName }): string {
  if (field.effect === 'mask') return `masked ${field.mask ?? ''}`;
  return field.effect === 'allow' ? 'visible' : 'denied';
}

function describeRule(ruleId: string | null, rules: ReadonlyMap<string, RuleSummary>): string {
  if (ruleId === null) return 'default deny';
  const rule = rules.get(ruleId);
  return rule ? `${ruleId} (${rule.file}:${rule.line})` : ruleId;
}

export function formatExplanation(
  explanation: Explanation,
  rules: ReadonlyMap<string, RuleSummary> = new Map(),
): string {
  if (explanation.kind === 'invalid')
    return `The operation is not valid against the schema:\n${explanation.errors.map((error) => `  ${error}`).join('\n')}`;
  if (explanation.kind === 'refused')
    return `${explanation.consumer} / ${explanation.purpose}: refused: ${explanation.reason}`;
  const lines = [`${explanation.consumer} / ${explanation.purpose} (${explanation.mode} mode)`];
  const pathWidth = Math.max(0, ...explanation.fields.map((field) => field.path.length));
  const coordinateWidth = Math.max(0, ...explanation.fields.map((field) => field.coordinate.length));
  const effectWidth = Math.max(0, ...explanation.fields.map((field) => describeEffect(field).length));
  for (const field of explanation.fields) {
    lines.push(
      `  ${field.path.padEnd(pathWidth)}  ${field.coordinate.padEnd(coordinateWidth)}  ${describeEffect(field).padEnd(effectWidth)}  ${describeRule(field.ruleId, rules)}`,
    );
  }
  if (explanation.records.length > 0) {
    lines.push('records:');
    const width = Math.max(...explanation.records.map((record) => record.typeName.length));
    for (const { typeName, rule } of explanation.records) {
      lines.push(
        `  ${typeName.padEnd(width)}  ${describeRecordRule(rule)}  ${rule.ruleId === null ? 'default' : describeRule(rule.ruleId, rules)}`,
      );
    }
  }
  const denied = explanation.fields.filter((field) => field.effect === 'deny').length;
  if (denied === 0) lines.push('verdict: answered in full');
  else if (explanation.mode === 'reject')
    lines.push(`verdict: refused (reject mode): ${denied} denied field(s) requested`);
  else lines.push(`verdict: answered; ${denied} denied field(s) come back null with a FORBIDDEN error (filter mode)`);
  return lines.join('\n');
}

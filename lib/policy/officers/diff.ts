/**
 * diff: what a policy change changes for each consumer and purpose: fields gained and lost,
 * masks changed, record rules changed, and consumer settings (mode, purposes, credentials).
 * Rule ids are not compared: renaming or moving a rule changes nothing anyone sees.
 */
import type { GraphQLSchema } from 'graphql';
import type { CompiledPolicy, Consumer, ConsumerView, FieldDecision, MaskName, RecordRule } from '../decision/model.ts';
import { DEFAULT_RECORD_RULE } from '../decision/model.ts';
import { isAlwaysAllowed, policyFields, policyTypes } from '../decision/api-schema.ts';
import { describeRecordRule } from './coverage.ts';
import { RECORD_TYPES } from '../decision/records.ts';

export interface FieldGain {
  coordinate: string;
  /** Set when the gained field is masked. */
  mask?: MaskName;
}

export interface MaskChange {
  coordinate: string;
  /** null: shown unmasked. */
  from: MaskName | null;
  to: MaskName | null;
}

export interface RecordChange {
  typeName: string;
  from: Omit<RecordRule, 'ruleId'>;
  to: Omit<RecordRule, 'ruleId'>;
}

export interface ViewDiff {
  consumer: string;
  purpose: string;
  status: 'added' | 'removed' | 'changed';
  gained: FieldGain[];
  lost: string[];
  masks: MaskChange[];
  records: RecordChange[];
}

export interface PolicyDiff {
  from: string;
  to: string;
  /** Per consumer: changes of its settings, in words. */
  consumers: { consumer: string; changes: string[] }[];
  views: ViewDiff[];
}

const DENIED: FieldDecision = { effect: 'deny', ruleId: null };

function decide(view: ConsumerView | undefined, typeName: string, fieldName: string): FieldDecision {
  if (view) return view.field(typeName, fieldName);
  return isAlwaysAllowed(typeName, fieldName) ? { effect: 'allow', ruleId: null } : DENIED;
}

function diffView(
  consumer: string,
  purpose: string,
  a: ConsumerView | undefined,
  b: ConsumerView | undefined,
  schema: GraphQLSchema,
): ViewDiff {
  const diff: ViewDiff = {
    consumer,
    purpose,
    status: !a ? 'added' : !b ? 'removed' : 'changed',
    gained: [],
    lost: [],
    masks: [],
    records: [],
  };
  for (const type of policyTypes(schema)) {
    for (const field of policyFields(type)) {
      const before = decide(a, type.name, field.name);
      const after = decide(b, type.name, field.name);
      const coordinate = `${type.name}.${field.name}`;
      const wasVisible = before.effect !== 'deny';
      const isVisible = after.effect !== 'deny';
      if (!wasVisible && isVisible) diff.gained.push({ coordinate, ...(after.mask ? { mask: after.mask } : {}) });
      else if (wasVisible && !isVisible) diff.lost.push(coordinate);
      else if (wasVisible && (before.mask ?? null) !== (after.mask ?? null))
        diff.masks.push({ coordinate, from: before.mask ?? null, to: after.mask ?? null });
    }
  }
  for (const typeName of Object.keys(RECORD_TYPES)) {
    if (!schema.getType(typeName)) continue;
    const before = a?.records(typeName) ?? DEFAULT_RECORD_RULE;
    const after = b?.records(typeName) ?? DEFAULT_RECORD_RULE;
    if (before.history !== after.history || before.disclosureWindow !== after.disclosureWindow) {
      diff.records.push({
        typeName,
        from: { history: before.history, disclosureWindow: before.disclosureWindow },
        to: { history: after.history, disclosureWindow: after.disclosureWindow },
      });
    }
  }
  return diff;
}

function formatDate(date: Date | undefined): string {
  return date ? date.toISOString() : '-';
}

function consumerChanges(a: Consumer | undefined, b: Consumer | undefined): string[] {
  if (!a) return ['added'];
  if (!b) return ['removed'];
  const changes: string[] = [];
  if (a.name !== b.name) changes.push(`name: "${a.name}" -> "${b.name}"`);
  if (a.mode !== b.mode) changes.push(`mode: ${a.mode} -> ${b.mode}`);
  if ((a.defaultPurpose ?? '-') !== (b.defaultPurpose ?? '-'))
    changes.push(`default purpose: ${a.defaultPurpose ?? '-'} -> ${b.defaultPurpose ?? '-'}`);
  if (a.anonymous !== b.anonymous) changes.push(`anonymous: ${a.anonymous} -> ${b.anonymous}`);
  for (const purpose of b.purposes) if (!a.purposes.includes(purpose)) changes.push(`purpose added: ${purpose}`);
  for (const purpose of a.purposes) if (!b.purposes.includes(purpose)) changes.push(`purpose removed: ${purpose}`);
  const keysBefore = new Map(a.apiKeys.map((key) => [key.id, key]));
  const keysAfter = new Map(b.apiKeys.map((key) => [key.id, key]));
  for (const [id, key] of keysAfter) {
    const before = keysBefore.get(id);
    if (!before) changes.push(`API key added: ${id}`);
    else if (before.sha256 !== key.sha256) changes.push(`API key replaced: ${id}`);
    else {
      if (before.revoked !== key.revoked)
        changes.push(`API key ${id}: ${key.revoked ? 'revoked' : 'no longer revoked'}`);
      if (formatDate(before.notBefore) !== formatDate(key.notBefore))
        changes.push(`API key ${id}: notBefore ${formatDate(before.notBefore)} -> ${formatDate(key.notBefore)}`);
      if (formatDate(before.notAfter) !== formatDate(key.notAfter))
        changes.push(`API key ${id}: notAfter ${formatDate(before.notAfter)} -> ${formatDate(key.notAfter)}`);
    }
  }
  for (const id of keysBefore.keys()) if (!keysAfter.has(id)) changes.push(`API key removed: ${id}`);
  const jwtBefore = new Set(a.jwt.map((jwt) => `${jwt.issuer} ${jwt.subject}`));
  const jwtAfter = new Set(b.jwt.map((jwt) => `${jwt.issuer} ${jwt.subject}`));
  for (const jwt of jwtAfter) if (!jwtBefore.has(jwt)) changes.push(`JWT identity added: ${jwt}`);
  for (const jwt of jwtBefore) if (!jwtAfter.has(jwt)) changes.push(`JWT identity removed: ${jwt}`);
  return changes;
}

function isEmpty(diff: ViewDiff): boolean {
  return diff.gained.length === 0 && diff.lost.length === 0 && diff.masks.length === 0 && diff.records.length === 0;
}

/** The changes from policy a to policy b, both compiled against the same schema. */
export function diffPolicies(a: CompiledPolicy, b: CompiledPolicy, schema: GraphQLSchema): PolicyDiff {
  const consumerIds = [...new Set([...a.consumers.keys(), ...b.consumers.keys()])];
  const consumers: PolicyDiff['consumers'] = [];
  const views: ViewDiff[] = [];
  for (const id of consumerIds) {
    const before = a.consumers.get(id);
    const after = b.consumers.get(id);
    const changes = consumerChanges(before, after);
    if (changes.length > 0) consumers.push({ consumer: id, changes });
    const purposes = [...new Set([...(before?.purposes ?? []), ...(after?.purposes ?? [])])];
    for (const purpose of purposes) {
      const diff = diffView(id, purpose, a.view(id, purpose), b.view(id, purpose), schema);
      if (diff.status !== 'changed' || !isEmpty(diff)) views.push(diff);
    }
  }
  return { from: a.version, to: b.version, consumers, views };
}

function describeRecords(rule: Omit<RecordRule, 'ruleId'>): string {
  return describeRecordRule({ ...rule, ruleId: null });
}

export function formatPolicyDiff(diff: PolicyDiff): string {
  const lines = [`policy ${diff.from} -> ${diff.to}`];
  if (diff.consumers.length === 0 && diff.views.length === 0) {
    lines.push('no change in what any consumer sees');
    return lines.join('\n');
  }
  for (const { consumer, changes } of diff.consumers) {
    lines.push(`${consumer}:`);
    for (const change of changes) lines.push(`  ${change}`);
  }
  for (const view of diff.views) {
    lines.push(`${view.consumer} / ${view.purpose}${view.status === 'changed' ? '' : ` (${view.status})`}:`);
    for (const gain of view.gained) lines.push(`  + ${gain.coordinate}${gain.mask ? ` (masked ${gain.mask})` : ''}`);
    for (const lost of view.lost) lines.push(`  - ${lost}`);
    for (const mask of view.masks)
      lines.push(`  ~ ${mask.coordinate}: ${mask.from ?? 'unmasked'} -> ${mask.to ?? 'unmasked'}`);
    for (const record of view.records)
      lines.push(`  ~ ${record.typeName} records: ${describeRecords(record.from)} -> ${describeRecords(record.to)}`);
  }
  return lines.join('\n');
}

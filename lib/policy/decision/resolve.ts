/**
 * resolve: which rule decides each field and record type, for every consumer and purpose.
 *
 * For a consumer, a purpose and a field, the matching rules are those naming the consumer
 * (directly or through a group) and the purpose (or no purposes). Among the patterns of those
 * rules that reach the field, a specific `Type.field` beats a `Type.*` wildcard; patterns of the
 * same kind must agree, or that is a conflict. There is deliberately no "deny beats mask beats
 * allow" order: it would hide mistakes in a privacy policy instead of showing them.
 *
 * Tolerant of unknown names (they expand to nothing): validate.ts reports those.
 */
import type { GraphQLSchema } from 'graphql';
import type { Effect, MaskName } from './model.ts';
import { getPolicyType, isAlwaysAllowed, policyFields } from './api-schema.ts';
import { patternPlace } from '../loading/parse.ts';
import type { PolicySource, RuleSource } from '../loading/parse.ts';
import type { Place } from '../loading/yaml-source.ts';

export const SET_PREFIX = 'set:';

export interface FieldTarget {
  typeName: string;
  fieldName: string;
  /** Reached through `Type.*`. */
  wildcard: boolean;
}

/** One pattern of one rule reaching one field. */
export interface FieldEntry {
  effect: Effect;
  mask?: MaskName;
  rule: RuleSource;
  /** Where the pattern was written (a `set:` reference when reached through a field set). */
  place: Place;
  wildcard: boolean;
  /** The `set:` reference the field was reached through. */
  via?: string;
}

export interface RecordEntry {
  rule: RuleSource;
  place: Place;
  history: boolean;
  disclosureWindow: boolean;
}

export interface ResolvedView {
  consumer: string;
  purpose: string;
  /** The entry that decided each field some rule reaches: type -> field -> entry. */
  fields: Map<string, Map<string, FieldEntry>>;
  records: Map<string, RecordEntry>;
  /** The rules that apply to this consumer and purpose, in file order. */
  rules: RuleSource[];
}

export interface FieldConflict {
  consumer: string;
  purpose: string;
  typeName: string;
  fieldName: string;
  first: FieldEntry;
  second: FieldEntry;
}

export interface RecordConflict {
  consumer: string;
  purpose: string;
  typeName: string;
  first: RecordEntry;
  second: RecordEntry;
}

export interface Resolution {
  views: ResolvedView[];
  fieldConflicts: FieldConflict[];
  recordConflicts: RecordConflict[];
}

/** The fields one pattern (not a `set:` reference) reaches. Always-allowed fields are left out. */
export function expandFieldPattern(pattern: string, schema: GraphQLSchema): FieldTarget[] {
  const dot = pattern.indexOf('.');
  if (dot < 0) return [];
  const typeName = pattern.slice(0, dot);
  const fieldName = pattern.slice(dot + 1);
  const type = getPolicyType(schema, typeName);
  if (!type) return [];
  if (fieldName === '*') {
    return policyFields(type)
      .filter((field) => !isAlwaysAllowed(typeName, field.name))
      .map((field) => ({ typeName, fieldName: field.name, wildcard: true }));
  }
  if (isAlwaysAllowed(typeName, fieldName) || !Object.hasOwn(type.getFields(), fieldName)) return [];
  return [{ typeName, fieldName, wildcard: false }];
}

/** The fields a pattern of a rule reaches, expanding `set:` references. */
export function expandPattern(
  pattern: string,
  schema: GraphQLSchema,
  fieldSets: ReadonlyMap<string, readonly string[]>,
): FieldTarget[] {
  if (!pattern.startsWith(SET_PREFIX)) return expandFieldPattern(pattern, schema);
  const members = fieldSets.get(pattern.slice(SET_PREFIX.length)) ?? [];
  // Field sets do not nest (validate says so), which keeps a set readable on its own.
  return members
    .filter((member) => !member.startsWith(SET_PREFIX))
    .flatMap((member) => expandFieldPattern(member, schema));
}

/** The consumer ids a rule names, directly or through groups (unknown names are skipped). */
export function ruleConsumerIds(
  rule: RuleSource,
  consumerIds: ReadonlySet<string>,
  groups: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const ids = new Set<string>();
  for (const name of rule.consumers) {
    if (consumerIds.has(name)) ids.add(name);
    for (const member of groups.get(name) ?? []) if (consumerIds.has(member)) ids.add(member);
  }
  return ids;
}

function ruleEntries(
  rule: RuleSource,
  schema: GraphQLSchema,
  fieldSets: ReadonlyMap<string, readonly string[]>,
): { target: FieldTarget; entry: FieldEntry }[] {
  const effect = rule.effect;
  if (effect.kind === 'records') return [];
  const patterns =
    effect.kind === 'mask'
      ? effect.masks.map(({ pattern, mask }) => ({ pattern, mask }))
      : effect.patterns.map((pattern) => ({ pattern, mask: undefined }));
  return patterns.flatMap(({ pattern, mask }, index) => {
    const place = patternPlace(rule, index);
    return expandPattern(pattern, schema, fieldSets).map((target) => ({
      target,
      entry: {
        effect: effect.kind,
        ...(mask ? { mask } : {}),
        rule,
        place,
        wildcard: target.wildcard,
        ...(pattern.startsWith(SET_PREFIX) ? { via: pattern } : {}),
      },
    }));
  });
}

function sameDecision(a: FieldEntry, b: FieldEntry): boolean {
  return a.effect === b.effect && a.mask === b.mask;
}

export function resolvePolicy(source: PolicySource, schema: GraphQLSchema): Resolution {
  const consumerIds = new Set(source.consumers.map((consumer) => consumer.id));
  const groups = new Map(source.groups.map((group) => [group.name, group.members]));
  const fieldSets = new Map(source.fieldSets.map((set) => [set.name, set.members]));
  const compiledRules = source.rules.map((rule) => ({
    rule,
    consumers: ruleConsumerIds(rule, consumerIds, groups),
    entries: ruleEntries(rule, schema, fieldSets),
  }));

  const resolution: Resolution = { views: [], fieldConflicts: [], recordConflicts: [] };
  const seenConsumers = new Set<string>();
  for (const consumer of source.consumers) {
    if (seenConsumers.has(consumer.id)) continue;
    seenConsumers.add(consumer.id);
    for (const purpose of new Set(consumer.purposes)) {
      const matching = compiledRules.filter(
        ({ rule, consumers }) =>
          consumers.has(consumer.id) && (rule.purposes === undefined || rule.purposes.includes(purpose)),
      );

      const candidates = new Map<string, Map<string, FieldEntry[]>>();
      const records = new Map<string, RecordEntry>();
      for (const { rule, entries } of matching) {
        for (const { target, entry } of entries) {
          let byField = candidates.get(target.typeName);
          if (!byField) candidates.set(target.typeName, (byField = new Map<string, FieldEntry[]>()));
          const list = byField.get(target.fieldName);
          if (list) list.push(entry);
          else byField.set(target.fieldName, [entry]);
        }
        if (rule.effect.kind === 'records') {
          rule.effect.records.forEach((record, index) => {
            const entry: RecordEntry = {
              rule,
              place: patternPlace(rule, index),
              history: record.history,
              disclosureWindow: record.disclosureWindow,
            };
            const first = records.get(record.typeName);
            if (first)
              resolution.recordConflicts.push({
                consumer: consumer.id,
                purpose,
                typeName: record.typeName,
                first,
                second: entry,
              });
            else records.set(record.typeName, entry);
          });
        }
      }

      const fields = new Map<string, Map<string, FieldEntry>>();
      for (const [typeName, byField] of candidates) {
        const decided = new Map<string, FieldEntry>();
        fields.set(typeName, decided);
        for (const [fieldName, entries] of byField) {
          // A specific Type.field pattern overrides Type.* wildcards; only same-kind patterns compete.
          const specific = entries.filter((entry) => !entry.wildcard);
          const competing = specific.length > 0 ? specific : entries;
          const first = competing[0]!;
          for (const other of competing.slice(1)) {
            if (!sameDecision(first, other)) {
              resolution.fieldConflicts.push({
                consumer: consumer.id,
                purpose,
                typeName,
                fieldName,
                first,
                second: other,
              });
            }
          }
          decided.set(fieldName, first);
        }
      }
      resolution.views.push({
        consumer: consumer.id,
        purpose,
        fields,
        records,
        rules: matching.map(({ rule }) => rule),
      });
    }
  }
  return resolution;
}

/**
 * validate: what a parsed policy means, checked against the API schema. Every problem points at
 * the text that causes it and says what to do. Warnings (unused names, fields no query can reach)
 * never stop a policy from loading.
 */
import { getNamedType, isEnumType, isInputObjectType, isScalarType, isUnionType } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import {
  getPolicyType,
  isAlwaysAllowed,
  isFederationInternal,
  isMaskable,
  KEY_FIELD,
  policyFields,
  policyTypeOf,
  policyTypes,
} from '../decision/api-schema.ts';
import type { PolicyType } from '../decision/api-schema.ts';
import { RECORD_TYPES, isRecordType } from '../decision/records.ts';
import { WRITTEN_RECORDS } from '../decision/competence.ts';
import { patternPlace } from '../loading/parse.ts';
import type { ConsumerSource, PolicySource, RuleSource } from '../loading/parse.ts';
import { closest, suggestion } from '../loading/problems.ts';
import type { PolicyProblem } from '../loading/problems.ts';
import { resolvePolicy, ruleConsumerIds, SET_PREFIX } from '../decision/resolve.ts';
import type { FieldEntry, Resolution, ResolvedView } from '../decision/resolve.ts';
import { child, keyOf, ProblemSink } from '../loading/yaml-source.ts';
import type { Place } from '../loading/yaml-source.ts';
import { reportInterfaceMismatches } from '../decision/interface-fields.ts';

export interface ValidationResult {
  problems: PolicyProblem[];
  resolution: Resolution;
}

type PatternUse = 'allow' | 'deny' | 'mask' | 'set';

interface Context {
  schema: GraphQLSchema;
  sink: ProblemSink;
  source: PolicySource;
}

const KEY_FIELD_NAME = `${KEY_FIELD.typeName}.${KEY_FIELD.fieldName}`;
const KEY_FIELD_HINT =
  'it is the public key every department joins on, the Unified Social Credit Code, and is always visible';

function placeKey(place: Place): string {
  return `${place.file}|${place.path.join('/')}|${place.key === true}`;
}

/** Reports names defined twice; returns the first definition of each name. */
function firstDefinitions<T extends { place: Place }>(
  items: readonly T[],
  nameOf: (item: T) => string,
  noun: string,
  sink: ProblemSink,
): Map<string, T> {
  const first = new Map<string, T>();
  for (const item of items) {
    const name = nameOf(item);
    const earlier = first.get(name);
    if (earlier) {
      sink.error(
        item.place,
        'duplicate-id',
        `${noun} "${name}" is already defined at ${sink.where(earlier.place)}`,
        `each ${noun} needs its own name`,
      );
    } else {
      first.set(name, item);
    }
  }
  return first;
}

function kindOfType(schema: GraphQLSchema, typeName: string): string | undefined {
  const type = schema.getType(typeName);
  if (!type) return undefined;
  if (isEnumType(type)) return 'an enum (a list of values)';
  if (isScalarType(type)) return 'a scalar (a single value)';
  if (isInputObjectType(type)) return 'an input type';
  if (isUnionType(type)) return 'a union';
  return undefined;
}

function unknownTypeHint(schema: GraphQLSchema, typeName: string, fieldName: string): string {
  const typeNames = policyTypes(schema).map((type) => type.name);
  const near = closest(typeName, typeNames);
  if (near !== undefined) {
    const nearType = getPolicyType(schema, near);
    return nearType && (fieldName === '*' || Object.hasOwn(nearType.getFields(), fieldName))
      ? `did you mean ${near}.${fieldName}?`
      : `did you mean ${near}?`;
  }
  // "Penalty.severity": the type that has the field and whose name contains what was typed.
  const owners = typeNames.filter((name) => Object.hasOwn(getPolicyType(schema, name)?.getFields() ?? {}, fieldName));
  const likely = owners.filter((name) => name.toLowerCase().includes(typeName.toLowerCase()));
  if (likely.length === 1 || owners.length === 1) return `did you mean ${likely[0] ?? owners[0] ?? ''}.${fieldName}?`;
  if (owners.length > 0) return `types with a field "${fieldName}": ${owners.join(', ')}`;
  return suggestion(typeName, typeNames, 'type');
}

/** Checks one `Type.field` or `Type.*` pattern (not a set reference). */
function checkFieldPattern(
  pattern: string,
  place: Place,
  use: PatternUse,
  mask: string | undefined,
  { schema, sink }: Context,
): void {
  const dot = pattern.indexOf('.');
  const typeName = pattern.slice(0, dot);
  const fieldName = pattern.slice(dot + 1);
  if (isFederationInternal(typeName, fieldName === '*' ? undefined : fieldName)) {
    sink.error(
      place,
      'not-a-policy-subject',
      `${pattern} is federation machinery, not a policy subject`,
      'departments answer _service and _entities for the gateway only; write rules about the fields of the types instead',
    );
    return;
  }
  const type = getPolicyType(schema, typeName);
  if (!type) {
    const kind = kindOfType(schema, typeName);
    if (kind) {
      sink.error(
        place,
        'unknown-type',
        `${typeName} is ${kind}, not a type with fields`,
        'policies decide fields of object types: allow or deny the field that returns it',
      );
    } else {
      sink.error(place, 'unknown-type', `unknown type "${typeName}"`, unknownTypeHint(schema, typeName, fieldName));
    }
    return;
  }
  if (fieldName === '*') {
    if (use === 'mask') {
      const notText = policyFields(type).filter(
        (field) => !isAlwaysAllowed(typeName, field.name) && !isMaskable(field),
      );
      if (notText.length > 0) {
        sink.error(
          place,
          'mask-type',
          `mask ${mask ?? ''} on ${pattern} reaches fields that are not text: ${notText.map((field) => `${field.name} (${String(field.type)})`).join(', ')}`,
          'masks apply to String and ID fields only: list the text fields one by one',
        );
      }
    }
    return;
  }
  if (fieldName === '__typename') {
    sink.error(
      place,
      'always-allowed',
      `${pattern} is always allowed and is not a policy subject`,
      'it only names the type of an object; remove this line',
    );
    return;
  }
  const field = type.getFields()[fieldName];
  if (!field) {
    const fields = policyFields(type).map((candidate) => `${typeName}.${candidate.name}`);
    sink.error(place, 'unknown-field', `${typeName} has no field "${fieldName}"`, suggestion(pattern, fields, 'field'));
    return;
  }
  if (pattern === KEY_FIELD_NAME && (use === 'deny' || use === 'mask')) {
    sink.error(place, 'always-allowed', `${pattern} cannot be ${use === 'deny' ? 'denied' : 'masked'}`, KEY_FIELD_HINT);
    return;
  }
  if (use === 'mask' && !isMaskable(field)) {
    sink.error(
      place,
      'mask-type',
      `mask ${mask ?? ''} cannot apply to ${pattern}: it is ${String(field.type)}, not text`,
      'masks apply to String and ID fields only; deny the field instead',
    );
  }
}

/** Checks a `set:name` reference as used by a rule: the set exists and fits the rule's effect. */
function checkSetReference(
  pattern: string,
  place: Place,
  use: PatternUse,
  mask: string | undefined,
  ctx: Context,
  fieldSets: ReadonlyMap<string, readonly string[]>,
): void {
  const name = pattern.slice(SET_PREFIX.length);
  const members = fieldSets.get(name);
  if (!members) {
    ctx.sink.error(
      place,
      'unknown-field-set',
      `unknown field set "${name}"`,
      suggestion(name, [...fieldSets.keys()], 'field set'),
    );
    return;
  }
  if ((use === 'deny' || use === 'mask') && members.includes(KEY_FIELD_NAME)) {
    ctx.sink.error(
      place,
      'always-allowed',
      `${pattern} includes ${KEY_FIELD_NAME}, which cannot be ${use === 'deny' ? 'denied' : 'masked'}`,
      KEY_FIELD_HINT,
    );
  }
  if (use === 'mask') {
    const notText: string[] = [];
    for (const member of members) {
      const dot = member.indexOf('.');
      const type = getPolicyType(ctx.schema, member.slice(0, dot));
      if (!type) continue;
      const fieldName = member.slice(dot + 1);
      const fields =
        fieldName === '*' ? policyFields(type) : [type.getFields()[fieldName]].filter((field) => field !== undefined);
      for (const field of fields) {
        if (!isAlwaysAllowed(type.name, field.name) && !isMaskable(field))
          notText.push(`${type.name}.${field.name} (${String(field.type)})`);
      }
    }
    if (notText.length > 0) {
      ctx.sink.error(
        place,
        'mask-type',
        `mask ${mask ?? ''} on ${pattern} reaches fields that are not text: ${notText.join(', ')}`,
        'masks apply to String and ID fields only',
      );
    }
  }
}

function checkPurposes(ctx: Context): Set<string> {
  return new Set(firstDefinitions(ctx.source.purposes, (purpose) => purpose.id, 'purpose', ctx.sink).keys());
}

function parseDate(text: string): Date | undefined {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return undefined;
  // new Date('2026-02-31') is March 3rd: a date that does not exist is a typo, not a rollover.
  if (date.toISOString().slice(0, 10) !== text.slice(0, 10) && !/[+-]\d{2}:\d{2}$/.test(text)) return undefined;
  return date;
}

function checkConsumer(
  consumer: ConsumerSource,
  purposes: ReadonlySet<string>,
  issuers: ReadonlySet<string>,
  ctx: Context,
): void {
  const { sink } = ctx;
  consumer.purposes.forEach((purpose, index) => {
    if (!purposes.has(purpose)) {
      sink.error(
        child(consumer.place, 'purposes', index),
        'unknown-purpose',
        `unknown purpose "${purpose}"`,
        closest(purpose, purposes) !== undefined
          ? suggestion(purpose, [...purposes], 'purpose')
          : 'declare it under purposes: with a description first',
      );
    }
  });
  if (consumer.defaultPurpose !== undefined && !consumer.purposes.includes(consumer.defaultPurpose)) {
    sink.error(
      child(consumer.place, 'defaultPurpose'),
      'default-purpose',
      `default purpose ${consumer.defaultPurpose} is not one of the purposes of ${consumer.id}`,
      `add it to purposes, or choose one of ${consumer.purposes.join(', ')}`,
    );
  }
  const hasCredentials = consumer.apiKeys.length > 0 || consumer.jwt.length > 0;
  if (!hasCredentials && !consumer.anonymous) {
    sink.error(
      consumer.place,
      'credentials',
      `consumer ${consumer.id} has no credentials`,
      'add an API key (npm run policy -- new-key <consumer>) or a jwt credential; only an anonymous consumer has none',
    );
  }
  if (hasCredentials && consumer.anonymous) {
    sink.error(
      child(consumer.place, 'anonymous'),
      'credentials',
      `consumer ${consumer.id} is anonymous but has credentials`,
      'an anonymous consumer is whoever sends no credentials: remove either anonymous or the credentials',
    );
  }
  for (const key of consumer.apiKeys) {
    const notBefore = key.notBefore !== undefined ? parseDate(key.notBefore) : undefined;
    const notAfter = key.notAfter !== undefined ? parseDate(key.notAfter) : undefined;
    if (key.notBefore !== undefined && !notBefore)
      sink.error(child(key.place, 'notBefore'), 'schema', `"${key.notBefore}" is not a real date`);
    if (key.notAfter !== undefined && !notAfter)
      sink.error(child(key.place, 'notAfter'), 'schema', `"${key.notAfter}" is not a real date`);
    if (notBefore && notAfter && notBefore >= notAfter) {
      sink.error(
        child(key.place, 'notAfter'),
        'credentials',
        `key ${key.id} stops (notAfter) before it starts (notBefore)`,
        'notAfter must be later than notBefore',
      );
    }
  }
  checkCompetence(consumer, ctx);
  consumer.jwt.forEach((jwt) => {
    if (!issuers.has(jwt.issuer)) {
      sink.error(
        child(jwt.place, 'issuer'),
        'unknown-issuer',
        `unknown issuer "${jwt.issuer}"`,
        issuers.size > 0
          ? suggestion(jwt.issuer, [...issuers], 'issuer')
          : 'list the issuer under issuers: with its audience and keys',
      );
    }
  });
}

/** The values of the enum field `fieldName` of `typeName` in the schema, if it is one. */
function enumValues(schema: GraphQLSchema, typeName: string, fieldName: string): string[] | undefined {
  const field = getPolicyType(schema, typeName)?.getFields()[fieldName];
  const type = field ? getNamedType(field.type) : undefined;
  return type && isEnumType(type) ? type.getValues().map((value) => value.name) : undefined;
}

/** A consumer's competence: record types that can be written, kinds that exist (and are given where the type has kinds). */
function checkCompetence(consumer: ConsumerSource, { schema, sink }: Context): void {
  if (!consumer.competence) return;
  const written = Object.keys(WRITTEN_RECORDS);
  for (const [recordType, record] of Object.entries(consumer.competence.records)) {
    const place = keyOf(child(consumer.place, 'competence', 'records'), recordType);
    const fields = WRITTEN_RECORDS[recordType];
    if (!fields) {
      sink.error(
        place,
        'competence',
        `${recordType} is not a record type a department writes`,
        suggestion(recordType, written, 'record type'),
      );
      continue;
    }
    const values = fields.kind ? enumValues(schema, recordType, fields.kind) : undefined;
    if (fields.kind && !record.kinds) {
      sink.error(
        place,
        'competence',
        `${consumer.id} may record ${recordType} records of which ${fields.kind}? list them under kinds`,
        `one or more of ${(values ?? []).join(', ')}`,
      );
    }
    if (!fields.kind && record.kinds) {
      sink.error(
        child(consumer.place, 'competence', 'records', recordType, 'kinds'),
        'competence',
        `${recordType} records have no kinds`,
        'remove kinds',
      );
    }
    if (!fields.basis && record.basisIssuers) {
      sink.error(
        child(consumer.place, 'competence', 'records', recordType, 'basisIssuers'),
        'competence',
        `${recordType} records rest on no basis document`,
        'remove basisIssuers',
      );
    }
    record.kinds?.forEach((kind, index) => {
      if (values && !values.includes(kind)) {
        sink.error(
          child(consumer.place, 'competence', 'records', recordType, 'kinds', index),
          'competence',
          `${kind} is not a ${fields.kind} of ${recordType} records`,
          suggestion(kind, values, fields.kind ?? 'kind'),
        );
      }
    });
  }
}

function checkConsumers(ctx: Context, purposes: ReadonlySet<string>): Map<string, ConsumerSource> {
  const { source, sink } = ctx;
  const issuers = new Set(firstDefinitions(source.issuers, (issuer) => issuer.issuer, 'issuer', sink).keys());
  const consumers = firstDefinitions(source.consumers, (consumer) => consumer.id, 'consumer', sink);
  for (const consumer of source.consumers) checkConsumer(consumer, purposes, issuers, ctx);

  const anonymous = source.consumers.filter((consumer) => consumer.anonymous);
  for (const extra of anonymous.slice(1)) {
    sink.error(
      child(extra.place, 'anonymous'),
      'credentials',
      `only one consumer can be anonymous; ${anonymous[0]!.id} already is`,
    );
  }
  const keys = source.consumers.flatMap((consumer) =>
    consumer.apiKeys.map((key) => ({ ...key, consumer: consumer.id })),
  );
  firstDefinitions(
    keys.map((key) => ({ ...key, place: child(key.place, 'id') })),
    (key) => key.id,
    'API key id',
    sink,
  );
  const hashes = new Map<string, (typeof keys)[number]>();
  for (const key of keys) {
    const earlier = hashes.get(key.sha256);
    if (earlier) {
      sink.error(
        child(key.place, 'sha256'),
        'credentials',
        `the same key is already listed for ${earlier.consumer} (${sink.where(earlier.place)})`,
        'a key must identify exactly one consumer: generate a new one with npm run policy -- new-key',
      );
    } else {
      hashes.set(key.sha256, key);
    }
  }
  // An authority is represented by one consumer: otherwise two departments could write in its name.
  const representatives = new Map<string, ConsumerSource>();
  for (const consumer of source.consumers) {
    consumer.competence?.authorities.forEach((authority, index) => {
      const earlier = representatives.get(authority);
      if (earlier && earlier !== consumer) {
        sink.error(
          child(consumer.place, 'competence', 'authorities', index),
          'competence',
          `${authority} is already represented by ${earlier.id} (${sink.where(earlier.place)})`,
          'an authority records through one consumer: remove it from one of them',
        );
      } else {
        representatives.set(authority, consumer);
      }
    });
  }
  const subjects = new Map<string, Place>();
  for (const consumer of source.consumers) {
    for (const jwt of consumer.jwt) {
      const id = `${jwt.issuer} ${jwt.subject}`;
      const earlier = subjects.get(id);
      if (earlier)
        sink.error(
          child(jwt.place, 'subject'),
          'credentials',
          `issuer ${jwt.issuer} subject ${jwt.subject} already identifies another consumer (${sink.where(earlier)})`,
        );
      else subjects.set(id, jwt.place);
    }
  }
  return consumers;
}

function checkGroups(ctx: Context, consumers: ReadonlyMap<string, ConsumerSource>): Map<string, readonly string[]> {
  const { source, sink } = ctx;
  const groups = firstDefinitions(source.groups, (group) => group.name, 'group', sink);
  for (const group of source.groups) {
    if (consumers.has(group.name))
      sink.error(
        group.place,
        'duplicate-id',
        `group "${group.name}" has the name of a consumer`,
        'rules could not tell them apart: rename the group',
      );
    group.members.forEach((member, index) => {
      if (!consumers.has(member)) {
        const hint = groups.has(member)
          ? 'groups list consumers, not other groups: list its consumers here'
          : suggestion(member, [...consumers.keys()], 'consumer');
        sink.error(child(group.place, index), 'unknown-consumer', `unknown consumer "${member}"`, hint);
      }
    });
  }
  return new Map([...groups].map(([name, group]) => [name, group.members]));
}

function checkFieldSets(ctx: Context): Map<string, readonly string[]> {
  const { source, sink } = ctx;
  const sets = firstDefinitions(source.fieldSets, (set) => set.name, 'field set', sink);
  for (const set of source.fieldSets) {
    set.members.forEach((member, index) => {
      const place = child(set.place, index);
      if (member.startsWith(SET_PREFIX))
        sink.error(
          place,
          'unknown-field',
          `a field set cannot include another set (${member})`,
          'list its fields here, or use both sets in the rule',
        );
      else checkFieldPattern(member, place, 'set', undefined, ctx);
    });
  }
  return new Map([...sets].map(([name, set]) => [name, set.members]));
}

function checkRule(
  rule: RuleSource,
  ctx: Context,
  names: {
    purposes: ReadonlySet<string>;
    consumers: ReadonlyMap<string, ConsumerSource>;
    groups: ReadonlyMap<string, readonly string[]>;
    fieldSets: ReadonlyMap<string, readonly string[]>;
  },
): void {
  const { sink, schema } = ctx;
  rule.consumers.forEach((name, index) => {
    if (!names.consumers.has(name) && !names.groups.has(name)) {
      sink.error(
        child(rule.place, 'consumers', index),
        'unknown-consumer',
        `unknown consumer or group "${name}"`,
        suggestion(name, [...names.consumers.keys(), ...names.groups.keys()], 'consumer or group'),
      );
    }
  });
  const ruleConsumers = [...ruleConsumerIds(rule, new Set(names.consumers.keys()), names.groups)];
  rule.purposes?.forEach((purpose, index) => {
    const place = child(rule.place, 'purposes', index);
    if (!names.purposes.has(purpose)) {
      sink.error(
        place,
        'unknown-purpose',
        `unknown purpose "${purpose}"`,
        suggestion(purpose, [...names.purposes], 'purpose'),
      );
      return;
    }
    if (ruleConsumers.length > 0 && !ruleConsumers.some((id) => names.consumers.get(id)?.purposes.includes(purpose))) {
      const allowed = ruleConsumers
        .slice(0, 3)
        .map((id) => `${id} may use ${names.consumers.get(id)?.purposes.join(', ') ?? 'nothing'}`);
      sink.error(
        place,
        'purpose-not-allowed',
        `no consumer of rule "${rule.id}" may use purpose ${purpose}, so this never applies`,
        `${allowed.join('; ')}: add the purpose to the consumer, or remove it here`,
      );
    }
  });

  const effect = rule.effect;
  if (effect.kind === 'records') {
    const recordTypes = Object.keys(RECORD_TYPES);
    effect.records.forEach(({ typeName }, index) => {
      const place = patternPlace(rule, index);
      if (!isRecordType(typeName)) {
        const near = closest(typeName, recordTypes);
        sink.error(
          place,
          'not-a-record-type',
          `${typeName} is not a record type`,
          near !== undefined ? `did you mean ${near}?` : `record rules apply to ${recordTypes.join(', ')}`,
        );
      } else if (!schema.getType(typeName)) {
        sink.error(
          place,
          'unknown-type',
          `record type ${typeName} is not in the schema`,
          'remove this line, or check that the supergraph is current',
        );
      }
    });
    return;
  }
  const patterns =
    effect.kind === 'mask' ? effect.masks : effect.patterns.map((pattern) => ({ pattern, mask: undefined }));
  patterns.forEach(({ pattern, mask }, index) => {
    const place = patternPlace(rule, index);
    if (pattern.startsWith(SET_PREFIX)) checkSetReference(pattern, place, effect.kind, mask, ctx, names.fieldSets);
    else checkFieldPattern(pattern, place, effect.kind, mask, ctx);
  });
}

/** "allows X", "masks X with ID_NUMBER". */
function describeEntry(entry: FieldEntry, what: string): string {
  const via = entry.via ? ` (through ${entry.via})` : '';
  if (entry.effect === 'mask') return `masks ${what} with ${entry.mask ?? ''}${via}`;
  return `${entry.effect === 'allow' ? 'allows' : 'denies'} ${what}${via}`;
}

function listSome(items: readonly string[], max = 3): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function viewName(consumer: string, purpose: string): string {
  return `${consumer} under ${purpose}`;
}

/** One problem per pair of clashing patterns, however many fields, consumers and purposes they share. */
function reportConflicts({ resolution, sink }: { resolution: Resolution; sink: ProblemSink }): void {
  const fieldConflicts = new Map<
    string,
    { first: FieldEntry; second: FieldEntry; fields: Set<string>; views: Set<string> }
  >();
  for (const conflict of resolution.fieldConflicts) {
    const id = `${placeKey(conflict.first.place)}>${placeKey(conflict.second.place)}`;
    let group = fieldConflicts.get(id);
    if (!group)
      fieldConflicts.set(
        id,
        (group = { first: conflict.first, second: conflict.second, fields: new Set(), views: new Set() }),
      );
    group.fields.add(`${conflict.typeName}.${conflict.fieldName}`);
    group.views.add(viewName(conflict.consumer, conflict.purpose));
  }
  for (const { first, second, fields, views } of fieldConflicts.values()) {
    const bothWildcards = first.wildcard && second.wildcard;
    sink.error(
      second.place,
      'conflict',
      `conflict: rule "${second.rule.id}" ${describeEntry(second, listSome([...fields]))}; rule "${first.rule.id}" (${sink.where(first.place)}) ${describeEntry(first, fields.size === 1 ? 'it' : 'them')}; for ${listSome([...views])}`,
      bothWildcards
        ? 'a specific Type.field pattern overrides a Type.* wildcard: name the field on its own in the rule that should win, or remove one'
        : 'decide which one applies: remove one, or narrow the consumers or purposes of one of the rules',
    );
  }
  const recordConflicts = new Map<string, { conflict: Resolution['recordConflicts'][number]; views: Set<string> }>();
  for (const conflict of resolution.recordConflicts) {
    const id = `${placeKey(conflict.first.place)}>${placeKey(conflict.second.place)}`;
    let group = recordConflicts.get(id);
    if (!group) recordConflicts.set(id, (group = { conflict, views: new Set() }));
    group.views.add(viewName(conflict.consumer, conflict.purpose));
  }
  for (const { conflict, views } of recordConflicts.values()) {
    sink.error(
      conflict.second.place,
      'record-conflict',
      `conflict: rule "${conflict.second.rule.id}" sets which ${conflict.typeName} records are visible, as rule "${conflict.first.rule.id}" does (${sink.where(conflict.first.place)}), for ${listSome([...views])}`,
      'one record rule per record type, consumer and purpose: merge the two',
    );
  }
}

function isVisible(view: ResolvedView, typeName: string, fieldName: string): boolean {
  if (isAlwaysAllowed(typeName, fieldName)) return true;
  const effect = view.fields.get(typeName)?.get(fieldName)?.effect;
  return effect === 'allow' || effect === 'mask';
}

/** Types a consumer can reach from the roots (queries and mutations) through visible fields. */
function reachableTypes(view: ResolvedView, schema: GraphQLSchema): Set<string> {
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((root) => root !== null && root !== undefined);
  const reached = new Set<string>(roots.map((root) => root.name));
  const queue: PolicyType[] = [...roots];
  for (let type = queue.shift(); type; type = queue.shift()) {
    for (const field of policyFields(type)) {
      const target = policyTypeOf(field);
      if (target && !reached.has(target.name) && isVisible(view, type.name, field.name)) {
        reached.add(target.name);
        queue.push(target);
      }
    }
  }
  return reached;
}

/**
 * Warnings for fields a rule lets a consumer see that no query can reach, and for visible fields
 * that lead to an object with nothing visible in it: both usually mean a forgotten line.
 */
function reportReachability({
  resolution,
  schema,
  sink,
}: {
  resolution: Resolution;
  schema: GraphQLSchema;
  sink: ProblemSink;
}): void {
  const groups = new Map<
    string,
    { place: Place; views: Set<string>; message: (views: string) => string; hint: string }
  >();
  const note = (
    place: Place,
    id: string,
    view: ResolvedView,
    message: (views: string) => string,
    hint: string,
  ): void => {
    const key = `${placeKey(place)}|${id}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { place, views: new Set(), message, hint }));
    group.views.add(viewName(view.consumer, view.purpose));
  };
  for (const view of resolution.views) {
    const reached = reachableTypes(view, schema);
    for (const [typeName, fields] of view.fields) {
      const type = getPolicyType(schema, typeName);
      if (!type) continue;
      for (const [fieldName, entry] of fields) {
        if (entry.effect === 'deny') continue;
        if (!reached.has(typeName)) {
          const example = policyTypes(schema).flatMap((owner) =>
            policyFields(owner)
              .filter((field) => policyTypeOf(field)?.name === typeName)
              .map((field) => `${owner.name}.${field.name}`),
          )[0];
          note(
            entry.place,
            `unreachable ${typeName}`,
            view,
            (views) =>
              `rule "${entry.rule.id}" shows ${typeName} fields, but no visible field leads to ${typeName} for ${views}`,
            example
              ? `also allow a field that returns ${typeName}, such as ${example}`
              : `nothing in the schema returns ${typeName}`,
          );
          continue;
        }
        const target = policyTypeOf(type.getFields()[fieldName]!);
        if (target && !policyFields(target).some((field) => isVisible(view, target.name, field.name))) {
          note(
            entry.place,
            `empty ${typeName}.${fieldName}`,
            view,
            (views) => `${typeName}.${fieldName} is visible but no field of ${target.name} is, for ${views}`,
            `allow some fields of ${target.name}, or do not allow ${typeName}.${fieldName}`,
          );
        }
      }
    }
  }
  for (const group of groups.values())
    sink.warning(group.place, 'unreachable', group.message(listSome([...group.views])), group.hint);
}

function reportUnused(ctx: Context): void {
  const { source, sink } = ctx;
  const used = new Set(source.rules.flatMap((rule) => rule.consumers));
  for (const group of source.groups) {
    if (!used.has(group.name)) sink.warning(group.place, 'unused', `group "${group.name}" is not used by any rule`);
  }
  const usedSets = new Set(
    source.rules.flatMap((rule) => {
      const effect = rule.effect;
      const patterns =
        effect.kind === 'mask'
          ? effect.masks.map(({ pattern }) => pattern)
          : effect.kind === 'records'
            ? []
            : effect.patterns;
      return patterns
        .filter((pattern) => pattern.startsWith(SET_PREFIX))
        .map((pattern) => pattern.slice(SET_PREFIX.length));
    }),
  );
  for (const set of source.fieldSets) {
    if (!usedSets.has(set.name)) sink.warning(set.place, 'unused', `field set "${set.name}" is not used by any rule`);
  }
}

function reportEmptyViews(
  resolution: Resolution,
  consumers: ReadonlyMap<string, ConsumerSource>,
  purposes: ReadonlySet<string>,
  sink: ProblemSink,
): void {
  for (const view of resolution.views) {
    if (view.rules.length > 0 || !purposes.has(view.purpose)) continue;
    const consumer = consumers.get(view.consumer);
    if (!consumer) continue;
    sink.warning(
      child(consumer.place, 'purposes', consumer.purposes.indexOf(view.purpose)),
      'no-rules',
      `no rule applies to ${view.consumer} under ${view.purpose}: it sees only ${KEY_FIELD_NAME}`,
      'add rules for this purpose, or remove the purpose',
    );
  }
}

/** Checks a parsed policy against the API schema and resolves its rules. */
export function validatePolicy(source: PolicySource, schema: GraphQLSchema): ValidationResult {
  const sink = new ProblemSink(source.files);
  const ctx: Context = { schema, sink, source };
  const purposes = checkPurposes(ctx);
  const consumers = checkConsumers(ctx, purposes);
  const groups = checkGroups(ctx, consumers);
  const fieldSets = checkFieldSets(ctx);
  firstDefinitions(
    source.rules.map((rule) => ({ ...rule, place: child(rule.place, 'id') })),
    (rule) => rule.id,
    'rule',
    sink,
  );
  for (const rule of source.rules) checkRule(rule, ctx, { purposes, consumers, groups, fieldSets });

  const resolution = resolvePolicy(source, schema);
  reportConflicts({ resolution, sink });
  reportReachability({ resolution, schema, sink });
  reportInterfaceMismatches(resolution, schema, sink);
  reportUnused(ctx);
  reportEmptyViews(resolution, consumers, purposes, sink);
  return { problems: sink.problems, resolution };
}

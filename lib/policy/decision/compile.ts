/**
 * compile: a validated policy -> `CompiledPolicy`, the model both enforcement points read.
 *
 * Everything is decided here, once per policy version: `Type.*` patterns are expanded against the
 * schema and every field of every type gets its decision, so that deciding a field at query time
 * is two map lookups and allocates nothing.
 */
import { createHash } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { DEFAULT_RECORD_RULE } from './model.ts';
import type {
  ApiKeyCredential,
  CompiledPolicy,
  Consumer,
  ConsumerView,
  FieldDecision,
  Issuer,
  RecordRule,
} from './model.ts';
import { isAlwaysAllowed, policyFields, policyTypes } from './api-schema.ts';
import type { CompetenceSource, PolicySource } from '../loading/parse.ts';
import type { Competence } from './competence.ts';
import type { Resolution, ResolvedView } from './resolve.ts';
import { alignInterfaceFields } from './interface-fields.ts';

/** The rule id of decisions no policy file can change: `Subject.uscc` and `__typename`. */
export const ALWAYS_ALLOWED_RULE_ID = 'builtin:always-allowed';

const DEFAULT_DENY: FieldDecision = Object.freeze({ effect: 'deny', ruleId: null });
const ALWAYS_ALLOWED: FieldDecision = Object.freeze({ effect: 'allow', ruleId: ALWAYS_ALLOWED_RULE_ID });
const FROZEN_DEFAULT_RECORD_RULE: RecordRule = Object.freeze({ ...DEFAULT_RECORD_RULE });

/**
 * The policy version: the first 16 hex digits of a SHA-256 over the sorted file names and
 * contents. Equal files give equal versions on every instance, whatever the load order.
 */
export function policyVersion(texts: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...texts.keys()].sort()) {
    // Lengths first, so that moving text from one file to the next changes the hash.
    const text = texts.get(name) ?? '';
    hash
      .update(`${name.length}:${name}\n${Buffer.byteLength(text)}:`)
      .update(text)
      .update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}

class CompiledView implements ConsumerView {
  readonly consumer: string;
  readonly purpose: string;
  readonly key: string;
  readonly #fields: ReadonlyMap<string, ReadonlyMap<string, FieldDecision>>;
  readonly #records: ReadonlyMap<string, RecordRule>;

  constructor(
    consumer: string,
    purpose: string,
    fields: ReadonlyMap<string, ReadonlyMap<string, FieldDecision>>,
    records: ReadonlyMap<string, RecordRule>,
  ) {
    this.consumer = consumer;
    this.purpose = purpose;
    this.key = `${consumer}/${purpose}`;
    this.#fields = fields;
    this.#records = records;
  }

  field(typeName: string, fieldName: string): FieldDecision {
    if (fieldName === '__typename') return ALWAYS_ALLOWED;
    return this.#fields.get(typeName)?.get(fieldName) ?? DEFAULT_DENY;
  }

  records(typeName: string): RecordRule {
    return this.#records.get(typeName) ?? FROZEN_DEFAULT_RECORD_RULE;
  }
}

function compileView(view: ResolvedView, schema: GraphQLSchema): ConsumerView {
  const fields = new Map<string, Map<string, FieldDecision>>();
  for (const type of policyTypes(schema)) {
    const decided = view.fields.get(type.name);
    const byField = new Map<string, FieldDecision>();
    for (const field of policyFields(type)) {
      if (isAlwaysAllowed(type.name, field.name)) {
        byField.set(field.name, ALWAYS_ALLOWED);
        continue;
      }
      const entry = decided?.get(field.name);
      byField.set(
        field.name,
        entry
          ? Object.freeze({ effect: entry.effect, ...(entry.mask ? { mask: entry.mask } : {}), ruleId: entry.rule.id })
          : DEFAULT_DENY,
      );
    }
    fields.set(type.name, byField);
  }
  alignInterfaceFields(fields, schema);
  const records = new Map<string, RecordRule>();
  for (const [typeName, entry] of view.records) {
    records.set(
      typeName,
      Object.freeze({ ruleId: entry.rule.id, history: entry.history, disclosureWindow: entry.disclosureWindow }),
    );
  }
  return new CompiledView(view.consumer, view.purpose, fields, records);
}

function toDate(text: string | undefined): Date | undefined {
  return text === undefined ? undefined : new Date(text);
}

function compileCompetence(source: CompetenceSource): Competence {
  const authorities = Object.freeze([...source.authorities]);
  const records = new Map(
    Object.entries(source.records).map(([recordType, record]) => [
      recordType,
      Object.freeze({
        ...(record.kinds ? { kinds: Object.freeze([...record.kinds]) } : {}),
        basisIssuers: Object.freeze([...(record.basisIssuers ?? authorities)]),
      }),
    ]),
  );
  return Object.freeze({ authorities, records });
}

function compileConsumers(source: PolicySource): Map<string, Consumer> {
  const consumers = new Map<string, Consumer>();
  for (const consumer of source.consumers) {
    const apiKeys: ApiKeyCredential[] = consumer.apiKeys.map((key) => {
      const notBefore = toDate(key.notBefore);
      const notAfter = toDate(key.notAfter);
      return Object.freeze({
        id: key.id,
        sha256: key.sha256,
        ...(notBefore ? { notBefore } : {}),
        ...(notAfter ? { notAfter } : {}),
        revoked: key.revoked,
      });
    });
    consumers.set(
      consumer.id,
      Object.freeze({
        id: consumer.id,
        name: consumer.name,
        purposes: Object.freeze([...consumer.purposes]),
        ...(consumer.defaultPurpose !== undefined ? { defaultPurpose: consumer.defaultPurpose } : {}),
        mode: consumer.mode,
        apiKeys: Object.freeze(apiKeys),
        jwt: Object.freeze(consumer.jwt.map(({ issuer, subject }) => Object.freeze({ issuer, subject }))),
        anonymous: consumer.anonymous,
        ...(consumer.limits !== undefined ? { limits: Object.freeze({ ...consumer.limits }) } : {}),
        ...(consumer.persistedOperationsOnly !== undefined
          ? { persistedOperationsOnly: consumer.persistedOperationsOnly }
          : {}),
        ...(consumer.roles !== undefined ? { roles: Object.freeze([...consumer.roles]) } : {}),
        ...(consumer.competence !== undefined ? { competence: compileCompetence(consumer.competence) } : {}),
      }),
    );
  }
  return consumers;
}

/**
 * Compiles a policy that validated without errors. Conflicts would make decisions depend on rule
 * order, so compiling a policy that still has any is a programming error.
 */
export function compilePolicy(
  source: PolicySource,
  resolution: Resolution,
  schema: GraphQLSchema,
  version: string,
  keyFiles: ReadonlyMap<string, string> = new Map(),
): CompiledPolicy {
  if (resolution.fieldConflicts.length > 0 || resolution.recordConflicts.length > 0) {
    throw new Error('compilePolicy: the policy has conflicts; validate it first');
  }
  const views = new Map<string, Map<string, ConsumerView>>();
  for (const view of resolution.views) {
    let byPurpose = views.get(view.consumer);
    if (!byPurpose) views.set(view.consumer, (byPurpose = new Map<string, ConsumerView>()));
    byPurpose.set(view.purpose, compileView(view, schema));
  }
  const issuers: Issuer[] = source.issuers.map(({ issuer, audience, jwksFile, jwksUri, maxTokenLifetimeSeconds }) => {
    const jwks = jwksFile !== undefined ? keyFiles.get(jwksFile) : undefined;
    return Object.freeze({
      issuer,
      audience,
      ...(jwksFile !== undefined ? { jwksFile } : {}),
      ...(jwks !== undefined ? { jwks } : {}),
      ...(jwksUri !== undefined ? { jwksUri } : {}),
      ...(maxTokenLifetimeSeconds !== undefined ? { maxTokenLifetimeSeconds } : {}),
    });
  });
  return Object.freeze({
    version,
    consumers: compileConsumers(source),
    issuers: Object.freeze(issuers),
    view: (consumerId: string, purpose: string) => views.get(consumerId)?.get(purpose),
  });
}

/**
 * parse: policy file texts -> `PolicySource`, the merged content of all files with the place of
 * every item, once each file is valid YAML of the right shape. Meaning (references, the schema,
 * conflicts) is checked later by officers/validate.ts.
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { ConsumerLimits, ConsumerRole, MaskName } from '../decision/model.ts';
import type { PolicyProblem } from './problems.ts';
import { policyFileJsonSchema } from '../officers/json-schema.ts';
import { child, keyOf, parseYamlFile, schemaProblems } from './yaml-source.ts';
import type { Place, YamlFile } from './yaml-source.ts';

/** The shape the JSON Schema guarantees for one file. */
interface RawPolicyFile {
  purposes?: { id: string; description: string }[];
  issuers?: {
    issuer: string;
    audience: string;
    jwksFile?: string;
    jwksUri?: string;
    maxTokenLifetimeSeconds?: number;
  }[];
  consumers?: {
    id: string;
    name: string;
    purposes: string[];
    defaultPurpose?: string;
    mode: 'reject' | 'filter';
    anonymous?: boolean;
    limits?: ConsumerLimits;
    persistedOperationsOnly?: boolean;
    roles?: ConsumerRole[];
    competence?: CompetenceSource;
    credentials?: {
      apiKeys?: { id: string; sha256: string; notBefore?: string; notAfter?: string; revoked?: boolean }[];
      jwt?: { issuer: string; subject: string }[];
    };
  }[];
  groups?: Record<string, string[]>;
  fieldSets?: Record<string, string[]>;
  rules?: {
    id: string;
    description: string;
    consumers: string[];
    purposes?: string[];
    allow?: string[];
    deny?: string[];
    mask?: Record<string, MaskName>;
    records?: Record<string, { history?: boolean; disclosureWindow?: boolean }>;
  }[];
}

/** A consumer's competence as written: authorities, and per record type its kinds and basis issuers. */
export interface CompetenceSource {
  authorities: string[];
  records: Record<string, { kinds?: string[]; basisIssuers?: string[] }>;
}

export interface PurposeSource {
  place: Place;
  id: string;
  description: string;
}

export interface IssuerSource {
  place: Place;
  issuer: string;
  audience: string;
  jwksFile?: string;
  jwksUri?: string;
  maxTokenLifetimeSeconds?: number;
}

export interface ApiKeySource {
  place: Place;
  id: string;
  sha256: string;
  /** As written (a date or date-time); checked and converted by validate. */
  notBefore?: string;
  notAfter?: string;
  revoked: boolean;
}

export interface ConsumerSource {
  place: Place;
  id: string;
  name: string;
  purposes: readonly string[];
  defaultPurpose?: string;
  mode: 'reject' | 'filter';
  anonymous: boolean;
  limits?: ConsumerLimits;
  persistedOperationsOnly?: boolean;
  roles?: readonly ConsumerRole[];
  competence?: CompetenceSource;
  apiKeys: readonly ApiKeySource[];
  jwt: readonly { place: Place; issuer: string; subject: string }[];
}

/** A group or a field set: a name and its members. `place` is the name's key. */
export interface NamedListSource {
  place: Place;
  name: string;
  members: readonly string[];
}

export type RuleEffectSource =
  | { kind: 'allow' | 'deny'; patterns: readonly string[] }
  | { kind: 'mask'; masks: readonly { pattern: string; mask: MaskName }[] }
  | { kind: 'records'; records: readonly { typeName: string; history: boolean; disclosureWindow: boolean }[] };

export interface RuleSource {
  place: Place;
  id: string;
  description: string;
  consumers: readonly string[];
  /** Undefined: every purpose of the rule's consumers. */
  purposes?: readonly string[];
  effect: RuleEffectSource;
}

export interface PolicySource {
  /** The parsed files by name, for positions. */
  files: ReadonlyMap<string, YamlFile>;
  purposes: readonly PurposeSource[];
  issuers: readonly IssuerSource[];
  consumers: readonly ConsumerSource[];
  groups: readonly NamedListSource[];
  fieldSets: readonly NamedListSource[];
  rules: readonly RuleSource[];
}

export type ParseResult = { ok: true; source: PolicySource } | { ok: false; problems: PolicyProblem[] };

let validatePolicyFile: ValidateFunction<RawPolicyFile> | undefined;

function policyFileValidator(): ValidateFunction<RawPolicyFile> {
  validatePolicyFile ??= new Ajv({ allErrors: true, verbose: true }).compile<RawPolicyFile>(policyFileJsonSchema());
  return validatePolicyFile;
}

/** Where a pattern of a rule was written. */
export function patternPlace(rule: RuleSource, index: number): Place {
  const effect = rule.effect;
  if (effect.kind === 'mask') return keyOf(child(rule.place, 'mask'), effect.masks[index]?.pattern ?? '');
  if (effect.kind === 'records') return keyOf(child(rule.place, 'records'), effect.records[index]?.typeName ?? '');
  return child(rule.place, effect.kind, index);
}

function ruleEffect(rule: NonNullable<RawPolicyFile['rules']>[number]): RuleEffectSource {
  if (rule.allow) return { kind: 'allow', patterns: rule.allow };
  if (rule.deny) return { kind: 'deny', patterns: rule.deny };
  if (rule.mask)
    return { kind: 'mask', masks: Object.entries(rule.mask).map(([pattern, mask]) => ({ pattern, mask })) };
  return {
    kind: 'records',
    records: Object.entries(rule.records ?? {}).map(([typeName, value]) => ({
      typeName,
      history: value.history ?? false,
      disclosureWindow: value.disclosureWindow ?? false,
    })),
  };
}

/**
 * Parses every policy file (name -> text, names relative to the policies folder) and merges them
 * in name order. Any syntax or shape problem stops here: checking the meaning of a half-read
 * policy would only add confusing follow-up errors.
 */
export function parsePolicyFiles(texts: ReadonlyMap<string, string>): ParseResult {
  const problems: PolicyProblem[] = [];
  const files = new Map<string, YamlFile>();
  const raws: [string, RawPolicyFile][] = [];
  for (const name of [...texts.keys()].sort()) {
    const parsed = parseYamlFile(name, texts.get(name) ?? '');
    files.set(name, parsed.file);
    problems.push(...parsed.problems);
    if (parsed.problems.length > 0) continue;
    const validate = policyFileValidator();
    const shapeProblems = schemaProblems(parsed.file, validate);
    problems.push(...shapeProblems);
    if (shapeProblems.length === 0 && validate(parsed.file.data)) raws.push([name, parsed.file.data]);
  }
  if (problems.length > 0) return { ok: false, problems };

  const source = {
    files,
    purposes: [] as PurposeSource[],
    issuers: [] as IssuerSource[],
    consumers: [] as ConsumerSource[],
    groups: [] as NamedListSource[],
    fieldSets: [] as NamedListSource[],
    rules: [] as RuleSource[],
  };
  for (const [file, raw] of raws) {
    const at = (...path: (string | number)[]): Place => ({ file, path });
    raw.purposes?.forEach((purpose, i) => source.purposes.push({ place: at('purposes', i), ...purpose }));
    raw.issuers?.forEach((issuer, i) => source.issuers.push({ place: at('issuers', i), ...issuer }));
    raw.consumers?.forEach((consumer, i) => {
      const place = at('consumers', i);
      source.consumers.push({
        place,
        id: consumer.id,
        name: consumer.name,
        purposes: consumer.purposes,
        ...(consumer.defaultPurpose !== undefined ? { defaultPurpose: consumer.defaultPurpose } : {}),
        mode: consumer.mode,
        anonymous: consumer.anonymous ?? false,
        ...(consumer.limits !== undefined ? { limits: consumer.limits } : {}),
        ...(consumer.persistedOperationsOnly !== undefined
          ? { persistedOperationsOnly: consumer.persistedOperationsOnly }
          : {}),
        ...(consumer.roles !== undefined ? { roles: consumer.roles } : {}),
        ...(consumer.competence !== undefined ? { competence: consumer.competence } : {}),
        apiKeys: (consumer.credentials?.apiKeys ?? []).map((key, k) => ({
          ...key,
          revoked: key.revoked ?? false,
          place: child(place, 'credentials', 'apiKeys', k),
        })),
        jwt: (consumer.credentials?.jwt ?? []).map((jwt, k) => ({
          ...jwt,
          place: child(place, 'credentials', 'jwt', k),
        })),
      });
    });
    for (const [name, members] of Object.entries(raw.groups ?? {})) {
      source.groups.push({ place: { file, path: ['groups', name], key: true }, name, members });
    }
    for (const [name, members] of Object.entries(raw.fieldSets ?? {})) {
      source.fieldSets.push({ place: { file, path: ['fieldSets', name], key: true }, name, members });
    }
    raw.rules?.forEach((rule, i) => {
      source.rules.push({
        place: at('rules', i),
        id: rule.id,
        description: rule.description,
        consumers: rule.consumers,
        ...(rule.purposes ? { purposes: rule.purposes } : {}),
        effect: ruleEffect(rule),
      });
    });
  }
  return { ok: true, source };
}

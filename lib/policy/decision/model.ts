/**
 * The compiled policy: what the YAML files in `policies/` mean, in the form every enforcement
 * point reads. Compiled once per policy version; deciding a field is a map lookup.
 *
 * One model, two enforcement points: the gateway checks each operation against it before
 * planning; every subgraph enforces it again at query time.
 */

import type { Competence } from './competence.ts';

/** What a consumer gets for one field: the value, a masked value, or nothing. */
export type Effect = 'allow' | 'mask' | 'deny';

/** Named masks a policy may apply to a String field (see masks.ts). */
export const MASK_NAMES = ['ID_NUMBER', 'PHONE', 'NAME', 'REDACT'] as const;
export type MaskName = (typeof MASK_NAMES)[number];

export interface FieldDecision {
  effect: Effect;
  /** Set when effect is 'mask'. */
  mask?: MaskName;
  /** The rule that decided, or null when nothing matched and the default (deny) applied. */
  ruleId: string | null;
}

/**
 * Which records of a type a consumer sees. By default only current records: not removed, not
 * expired, not restored, with no limit from disclosure windows.
 */
export interface RecordRule {
  /** The rule that decided, or null for the default. */
  ruleId: string | null;
  /** Also see records that are no longer current: removed, expired or restored (history). */
  history: boolean;
  /** Only records inside their public disclosure window (public display). */
  disclosureWindow: boolean;
}

export const DEFAULT_RECORD_RULE: RecordRule = { ruleId: null, history: false, disclosureWindow: false };

/** Everything one consumer may see under one purpose. */
export interface ConsumerView {
  consumer: string;
  purpose: string;
  /** `${consumer}/${purpose}`, for caches. */
  key: string;
  /** The decision for `Type.field`; deny when no rule matched. */
  field(typeName: string, fieldName: string): FieldDecision;
  /** The record rule for a record type. */
  records(typeName: string): RecordRule;
}

export interface ApiKeyCredential {
  /** A name for the key (for rotation and logs); the key itself is never stored. */
  id: string;
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
  notBefore?: Date;
  notAfter?: Date;
  revoked: boolean;
}

export interface JwtCredential {
  /** `iss` the token must carry; the issuer's keys are configured in `issuers`. */
  issuer: string;
  /** `sub` that identifies this consumer at that issuer. */
  subject: string;
}

/**
 * A consumer's own limits, each overriding the gateway's default (gateway/config.ts); what is
 * not written here keeps the default.
 */
export interface ConsumerLimits {
  /** Deepest field nesting of one operation. */
  depth?: number;
  /** Aliased fields in one operation. */
  aliases?: number;
  /** Fields at the root of one operation. */
  rootFields?: number;
  /** Estimated cost: every field counts once for each item of the lists it sits in. */
  cost?: number;
  /** Lexical tokens of one document. */
  tokens?: number;
  /** Size of one document in bytes. */
  documentBytes?: number;
  /** Requests per minute, shared by every gateway instance. */
  requestsPerMinute?: number;
  /** Requests per day (the quota), shared by every gateway instance. */
  requestsPerDay?: number;
}

/** Roles a consumer may hold beside querying: an officer signs in to the privacy office's console. */
export const CONSUMER_ROLES = ['officer'] as const;
export type ConsumerRole = (typeof CONSUMER_ROLES)[number];

export interface Consumer {
  id: string;
  name: string;
  purposes: readonly string[];
  defaultPurpose?: string;
  /** What to do with denied fields: refuse the operation, or answer them null with an error. */
  mode: 'reject' | 'filter';
  apiKeys: readonly ApiKeyCredential[];
  jwt: readonly JwtCredential[];
  /** True only for a consumer the policy defines as anonymous (requests without credentials). */
  anonymous: boolean;
  /** Limits that differ from the gateway's defaults. */
  limits?: Readonly<ConsumerLimits>;
  /** True: only operations registered for this consumer (policies/operations/) are executed. */
  persistedOperationsOnly?: boolean;
  /** What else the consumer is: `officer`, a privacy officer who may sign in to the console (console/). */
  roles?: readonly ConsumerRole[];
  /** For a writing consumer: the authorities it represents and what it may record (competence.ts); absent, it records nothing. */
  competence?: Competence;
}

/** A trusted token issuer: where its signing keys come from. */
export interface Issuer {
  issuer: string;
  /** `aud` the issuer's tokens must carry for Credence. */
  audience: string;
  /** JSON Web Key Set file, relative to the policies folder. */
  jwksFile?: string;
  /**
   * That file's text as it was in this policy version: tokens are checked against the keys of
   * the version in force, even on a machine whose own copy of the file differs.
   */
  jwks?: string;
  /** Or a JWKS URL. */
  jwksUri?: string;
  /** The longest a token of this issuer may be valid, in seconds (default 3600). */
  maxTokenLifetimeSeconds?: number;
}

export interface CompiledPolicy {
  /** Content hash of the policy files: every request is decided under one version and records it. */
  version: string;
  consumers: ReadonlyMap<string, Consumer>;
  issuers: readonly Issuer[];
  /** The view of a consumer under a purpose, or undefined when that purpose is not allowed to it. */
  view(consumerId: string, purpose: string): ConsumerView | undefined;
}

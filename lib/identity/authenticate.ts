import type { CompiledPolicy, Consumer } from '../policy/decision/model.ts';
import { createApiKeyIndex } from './api-keys.ts';
import { ErrorCode } from '../error-registry.ts';
import { IdentityError, quoteForMessage } from './identity-error.ts';
import { createJwtVerifier } from './jwt.ts';

/**
 * Who is calling and for what: the gateway's first step for every request, before any parsing
 * or planning. Built once per policy version, so a request costs map lookups (and, for a JWT,
 * one signature check).
 */

export const API_KEY_HEADER = 'x-api-key';
export const PURPOSE_HEADER = 'x-credence-purpose';

/**
 * The request headers read here, lower-case as Node delivers them. Node's `IncomingHttpHeaders`
 * (and Fastify's `request.headers`) can be passed as they are.
 */
export interface IdentityHeaders {
  authorization?: string | undefined;
  'x-api-key'?: string | readonly string[] | undefined;
  'x-credence-purpose'?: string | readonly string[] | undefined;
}

export interface Authentication {
  consumer: Consumer;
  purpose: string;
  credential: 'api-key' | 'jwt' | 'anonymous';
  /** The API key's id (never the key), for the access log and for spotting keys to retire. */
  keyId?: string;
}

export interface Authenticator {
  /** The policy version every decision of this authenticator was made under. */
  readonly policyVersion: string;
  /** Resolves the caller, or throws an IdentityError (401, 403, or 503 when an issuer is down). */
  authenticate(headers: IdentityHeaders, now?: Date): Promise<Authentication>;
}

export interface AuthenticatorOptions {
  policy: CompiledPolicy;
  /** The policies folder: JWKS files of issuers are relative to it. */
  policiesDir: string;
  clockToleranceSeconds?: number;
}

const BEARER = /^Bearer +(\S+) *$/i;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { policy } = options;
  const consumers = [...policy.consumers.values()];
  const apiKeys = createApiKeyIndex(consumers);
  const jwtVerifier = createJwtVerifier(policy.issuers, {
    policiesDir: options.policiesDir,
    ...(options.clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds: options.clockToleranceSeconds }),
  });
  const byJwtSubject = indexJwtSubjects(consumers, new Set(policy.issuers.map((issuer) => issuer.issuer)));
  const anonymous = findAnonymous(consumers);

  async function identify(headers: IdentityHeaders, now: Date): Promise<Omit<Authentication, 'purpose'>> {
    const apiKey = singleValue(headers[API_KEY_HEADER]);
    const authorization = headers.authorization;
    // An empty header counts as sent: a client whose key variable is unset should be told,
    // not silently served as the anonymous consumer.
    if (apiKey !== undefined && authorization !== undefined) throw new IdentityError(ErrorCode.AMBIGUOUS_CREDENTIALS);

    if (apiKey !== undefined) {
      if (apiKey === null) {
        throw new IdentityError(ErrorCode.AMBIGUOUS_CREDENTIALS, {
          message: 'Send one X-Api-Key header, not several.',
        });
      }
      const found = apiKeys.find(apiKey, now);
      if ('error' in found) {
        // One message for every failure: the caller learns nothing about which keys exist.
        throw new IdentityError(ErrorCode.INVALID_API_KEY, {
          detail: found.keyId ? `API key ${found.keyId}: ${found.error}` : 'unknown API key',
        });
      }
      return { consumer: found.consumer, credential: 'api-key', keyId: found.keyId };
    }

    if (authorization !== undefined) {
      const token = BEARER.exec(authorization)?.[1];
      if (!token) {
        throw new IdentityError(ErrorCode.INVALID_TOKEN, {
          message: 'The Authorization header must be "Bearer <token>".',
        });
      }
      const { issuer, subject } = await jwtVerifier.verify(token, now);
      const consumer = byJwtSubject.get(issuer)?.get(subject);
      if (!consumer)
        throw new IdentityError(ErrorCode.UNKNOWN_SUBJECT, { detail: `issuer ${issuer}, subject ${subject}` });
      return { consumer, credential: 'jwt' };
    }

    if (anonymous) return { consumer: anonymous, credential: 'anonymous' };
    throw new IdentityError(ErrorCode.CREDENTIALS_REQUIRED);
  }

  return {
    policyVersion: policy.version,
    async authenticate(headers, now = new Date()) {
      const identity = await identify(headers, now);
      const purpose = choosePurpose(identity.consumer, singleValue(headers[PURPOSE_HEADER]));
      return { ...identity, purpose };
    },
  };
}

/** Purpose comes only after identity: a 403 is only ever given to a caller we know. */
function choosePurpose(consumer: Consumer, declared: string | null | undefined): string {
  if (declared === null) {
    throw new IdentityError(ErrorCode.PURPOSE_NOT_ALLOWED, {
      message: 'Declare exactly one purpose in X-Credence-Purpose.',
      authenticated: { consumer: consumer.id, purpose: '' },
    });
  }
  const purpose = declared?.trim() || consumer.defaultPurpose;
  if (!purpose)
    throw new IdentityError(ErrorCode.PURPOSE_REQUIRED, {
      message: purposeRequiredMessage(consumer),
      authenticated: { consumer: consumer.id, purpose: '' },
    });
  // Checked even for the default purpose: a policy whose default is not among the consumer's
  // purposes must not widen what the consumer sees.
  if (!consumer.purposes.includes(purpose)) {
    throw new IdentityError(ErrorCode.PURPOSE_NOT_ALLOWED, {
      message: `The purpose ${quoteForMessage(purpose)} is not allowed for this consumer. ${allowedList(consumer)}`,
      detail: `consumer ${consumer.id}, purpose ${quoteForMessage(purpose)}`,
      authenticated: { consumer: consumer.id, purpose },
    });
  }
  return purpose;
}

function purposeRequiredMessage(consumer: Consumer): string {
  return `Declare the purpose of this request in X-Credence-Purpose. ${allowedList(consumer)}`;
}

/** Only the caller's own purposes: never another consumer's. */
function allowedList(consumer: Consumer): string {
  return consumer.purposes.length === 0
    ? 'No purpose is currently allowed for this consumer.'
    : `Allowed purposes: ${consumer.purposes.join(', ')}.`;
}

/** undefined: header absent; null: sent more than once; otherwise its value. */
function singleValue(value: string | readonly string[] | undefined): string | null | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  return value.length === 1 ? value[0] : null;
}

function indexJwtSubjects(
  consumers: readonly Consumer[],
  issuers: ReadonlySet<string>,
): Map<string, Map<string, Consumer>> {
  // Nested maps rather than an "issuer|subject" string key: issuer URLs and subjects may hold
  // any character, so no separator is safe.
  const index = new Map<string, Map<string, Consumer>>();
  for (const consumer of consumers) {
    for (const { issuer, subject } of consumer.jwt) {
      if (!issuers.has(issuer))
        throw new Error(`Consumer "${consumer.id}" names JWT issuer "${issuer}", which is not configured`);
      let subjects = index.get(issuer);
      if (!subjects) index.set(issuer, (subjects = new Map<string, Consumer>()));
      const existing = subjects.get(subject);
      if (existing && existing !== consumer) {
        throw new Error(
          `JWT subject "${subject}" of issuer "${issuer}" is claimed by consumers "${existing.id}" and "${consumer.id}"`,
        );
      }
      subjects.set(subject, consumer);
    }
  }
  return index;
}

function findAnonymous(consumers: readonly Consumer[]): Consumer | undefined {
  const anonymous = consumers.filter((consumer) => consumer.anonymous);
  if (anonymous.length > 1) {
    throw new Error(
      `Only one anonymous consumer may be defined, found: ${anonymous.map((consumer) => consumer.id).join(', ')}`,
    );
  }
  return anonymous[0];
}

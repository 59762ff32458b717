import { createHash, createPrivateKey, randomUUID, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode } from '../error-registry.ts';
import { IdentityError } from './identity-error.ts';
import {
  assertEd25519,
  ed25519KeyId,
  generateEd25519KeyPair,
  parseEd25519PublicKeys,
  toEd25519PrivateKey,
  toEd25519PublicKey as toPublicKey,
  unescapePem,
  type Ed25519KeyPair,
} from './ed25519-keys.ts';

export { unescapePem };

/**
 * The gateway's identity assertion. Headers such as "x-consumer" can be forged by anyone who
 * reaches a subgraph, so the gateway signs who is calling, for which purpose and under which
 * policy version, and subgraphs trust nothing else.
 *
 * Compact JWS with Ed25519 through node:crypto rather than jose: signing happens once per
 * incoming request on the gateway's hot path and verification once per subgraph call, and
 * node:crypto is synchronous and several times cheaper than jose's async WebCrypto path. The
 * format stays a standard JWS, so any JOSE library can inspect or verify an assertion.
 *
 * An assertion is bound to one department call: its audience is the department, `rd` is the
 * digest of the exact operation and variables sent to it, and `jti` makes it single-use (the
 * department claims it in a replay cache, replay-guard.ts). Captured on its way, it opens no other
 * department, carries no other query, and does not work twice.
 */

export const ASSERTION_HEADER = 'x-credence-assertion';
export const ASSERTION_ISSUER = 'credence-gateway';
export const ASSERTION_TYPE = 'credence-assertion+jwt';

/** The longest an assertion may live: it only has to survive one request's subgraph calls. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 60;
const DEFAULT_LIFETIME_SECONDS = 30;
/** Clock skew tolerated between the gateway's and a subgraph's machines. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** Far above a real assertion (~400 bytes); refuses oversized input before any parsing. */
const MAX_ASSERTION_LENGTH = 4096;

export interface AssertionIdentity {
  consumer: string;
  purpose: string;
  policyVersion: string;
  requestId: string;
}

/** What a department is asked in one call, as sent: the assertion's digest covers exactly this. */
export interface DepartmentRequest {
  query?: string | undefined;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  operationName?: string | null | undefined;
}

/** The one call an assertion is good for: the department (audience) and the request sent to it. */
export interface AssertionBinding {
  audience: string;
  request: DepartmentRequest;
}

/**
 * The digest of a department request: SHA-256 over its query, operation name and variables as
 * JSON. The department computes it over the body it parsed; JSON text that parses to the same
 * values serializes back the same, so both sides agree without keeping the raw body.
 */
export function requestDigest(request: DepartmentRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([request.query ?? '', request.operationName ?? null, request.variables ?? {}]))
    .digest('base64url');
}

export interface AssertedIdentity extends AssertionIdentity {
  /** The assertion's own id: a department accepts it once (replay-guard.ts). */
  assertionId: string;
  issuedAt: Date;
  expiresAt: Date;
  /** Which gateway key signed it (for logs during key rotation). */
  keyId: string;
}

/** The claims, named as in the token. */
interface AssertionClaims {
  iss: string;
  aud: string;
  sub: string;
  purpose: string;
  pv: string;
  rid: string;
  /** The digest of the request the assertion was issued for (requestDigest). */
  rd: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface AssertionSignerOptions {
  privateKey: KeyObject | string;
  keyId: string;
  lifetimeSeconds?: number;
}

export interface AssertionSigner {
  readonly keyId: string;
  sign(identity: AssertionIdentity, binding: AssertionBinding, now?: Date): string;
}

export function createAssertionSigner(options: AssertionSignerOptions): AssertionSigner {
  const lifetime = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime <= 0 || lifetime > MAX_ASSERTION_LIFETIME_SECONDS) {
    throw new Error(
      `Assertion lifetime must be a whole number of seconds from 1 to ${MAX_ASSERTION_LIFETIME_SECONDS}, not ${lifetime}`,
    );
  }
  if (!options.keyId) throw new Error('Assertion signer: keyId is required');
  const privateKey = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  assertEd25519(privateKey, 'private', 'Assertion signer key');
  // The header never changes for a signer: encode it once.
  const encodedHeader = encodeJson({ alg: 'EdDSA', typ: ASSERTION_TYPE, kid: options.keyId });

  return {
    keyId: options.keyId,
    sign(identity, binding, now = new Date()) {
      for (const field of ['consumer', 'purpose', 'policyVersion', 'requestId'] as const) {
        if (typeof identity[field] !== 'string' || identity[field] === '') {
          throw new TypeError(`Assertion identity: ${field} must be a non-empty string`);
        }
      }
      const iat = Math.floor(now.getTime() / 1000);
      const claims: AssertionClaims = {
        iss: ASSERTION_ISSUER,
        aud: binding.audience,
        sub: identity.consumer,
        purpose: identity.purpose,
        pv: identity.policyVersion,
        rid: identity.requestId,
        rd: requestDigest(binding.request),
        jti: randomUUID(),
        iat,
        exp: iat + lifetime,
      };
      const signingInput = `${encodedHeader}.${encodeJson(claims)}`;
      const signature = sign(null, Buffer.from(signingInput), privateKey).toString('base64url');
      return `${signingInput}.${signature}`;
    },
  };
}

export interface AssertionVerifierOptions {
  /** Key id → public key. Several during rotation: the new key is added here before the gateway
   * signs with it, and the old one removed once no assertion signed with it can still be live. */
  publicKeys: Record<string, KeyObject | string>;
  clockToleranceSeconds?: number;
}

export interface AssertionVerifier {
  /**
   * Checks the assertion for the call it arrived with: this department (audience) and this
   * request. Throws ASSERTION_MISSING, ASSERTION_INVALID, ASSERTION_EXPIRED,
   * ASSERTION_AUDIENCE_MISMATCH or ASSERTION_REQUEST_MISMATCH (all 401). Single use is the
   * caller's to check, with the returned assertionId (replay-guard.ts).
   */
  verify(token: string | undefined, call: AssertionBinding, now?: Date): AssertedIdentity;
}

export function createAssertionVerifier(options: AssertionVerifierOptions): AssertionVerifier {
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const keys = new Map<string, KeyObject>();
  for (const [kid, key] of Object.entries(options.publicKeys)) {
    keys.set(kid, toPublicKey(key, `Assertion public key "${kid}"`));
  }
  if (keys.size === 0) throw new Error('Assertion verifier: at least one public key is required');

  return {
    verify(token, call, now = new Date()) {
      if (token === undefined || token === '') throw new IdentityError(ErrorCode.ASSERTION_MISSING);
      const invalid = (detail: string) => new IdentityError(ErrorCode.ASSERTION_INVALID, { detail });
      if (token.length > MAX_ASSERTION_LENGTH) throw invalid('too long');

      const parts = token.split('.');
      if (parts.length !== 3) throw invalid('not a compact JWS');
      const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
      // Buffer's base64url decoder skips stray characters; insist on the canonical alphabet so
      // that one signature has one spelling.
      if (!BASE64URL.test(encodedHeader) || !BASE64URL.test(encodedClaims) || !BASE64URL.test(encodedSignature)) {
        throw invalid('not base64url');
      }

      const header = decodeJson(encodedHeader);
      if (!header || header.alg !== 'EdDSA' || header.typ !== ASSERTION_TYPE || typeof header.kid !== 'string') {
        throw invalid('unexpected header');
      }
      const key = keys.get(header.kid);
      if (!key) throw invalid(`unknown key id ${JSON.stringify(header.kid.slice(0, 64))}`);
      const signature = Buffer.from(encodedSignature, 'base64url');
      let valid = false;
      try {
        valid = verify(null, Buffer.from(`${encodedHeader}.${encodedClaims}`), key, signature);
      } catch {
        // A signature of the wrong length may throw rather than fail: same answer.
      }
      if (!valid) throw invalid('bad signature');

      // Only now, with the signature checked, are the claims worth reading.
      const claims = decodeJson(encodedClaims);
      if (!isAssertionClaims(claims)) throw invalid('malformed claims');
      if (claims.iss !== ASSERTION_ISSUER) throw invalid('wrong issuer');
      // Checked here too, not only by the signer: a subgraph must not honour a long-lived
      // assertion from a misconfigured or older gateway.
      if (claims.exp - claims.iat > MAX_ASSERTION_LIFETIME_SECONDS || claims.exp <= claims.iat) {
        throw invalid(`lifetime ${claims.exp - claims.iat} s`);
      }
      const nowSeconds = now.getTime() / 1000;
      if (claims.iat > nowSeconds + tolerance) throw invalid('issued in the future');
      if (claims.exp <= nowSeconds - tolerance) throw new IdentityError(ErrorCode.ASSERTION_EXPIRED);
      if (claims.aud !== call.audience)
        throw new IdentityError(ErrorCode.ASSERTION_AUDIENCE_MISMATCH, {
          detail: `issued for ${JSON.stringify(claims.aud.slice(0, 64))}`,
        });
      if (claims.rd !== requestDigest(call.request)) throw new IdentityError(ErrorCode.ASSERTION_REQUEST_MISMATCH);

      return {
        consumer: claims.sub,
        purpose: claims.purpose,
        policyVersion: claims.pv,
        requestId: claims.rid,
        assertionId: claims.jti,
        issuedAt: new Date(claims.iat * 1000),
        expiresAt: new Date(claims.exp * 1000),
        keyId: header.kid,
      };
    },
  };
}

/**
 * A fresh Ed25519 key pair. The key id is derived from the public key, so the same key always
 * has the same id and a subgraph given only the PEM can compute it.
 */
export function generateAssertionKeyPair(): Ed25519KeyPair {
  return generateEd25519KeyPair();
}

/**
 * The key id of a key (public, or private: its public half is used): the first 16 base64url
 * characters (96 bits) of the SHA-256 of the public key's SPKI encoding.
 */
export function assertionKeyId(key: KeyObject | string): string {
  return ed25519KeyId(key);
}

export const ASSERTION_ENV = {
  PRIVATE_KEY: 'CREDENCE_ASSERTION_PRIVATE_KEY',
  KEY_ID: 'CREDENCE_ASSERTION_KEY_ID',
  PUBLIC_KEYS: 'CREDENCE_ASSERTION_PUBLIC_KEYS',
} as const;

/**
 * Reads the assertion keys from the environment, failing at startup with a message that says
 * which variable is wrong and what it should hold.
 *
 * - `signer` (the gateway): `CREDENCE_ASSERTION_PRIVATE_KEY`, an Ed25519 private key in PEM;
 *   `CREDENCE_ASSERTION_KEY_ID` optionally overrides the key id derived from it.
 * - `verifier` (subgraphs): `CREDENCE_ASSERTION_PUBLIC_KEYS`, either one public key PEM (its
 *   id derived as the gateway derives it) or a JSON object of key id → public key PEM.
 *
 * PEMs with literal "\n" sequences (as .env files and some secret stores write them) are accepted.
 */
export function loadAssertionKeys(env: NodeJS.ProcessEnv, role: 'signer'): AssertionSignerOptions;
export function loadAssertionKeys(env: NodeJS.ProcessEnv, role: 'verifier'): AssertionVerifierOptions;
export function loadAssertionKeys(
  env: NodeJS.ProcessEnv,
  role: 'signer' | 'verifier',
): AssertionSignerOptions | AssertionVerifierOptions {
  if (role === 'signer') {
    const pem = required(env, ASSERTION_ENV.PRIVATE_KEY, 'an Ed25519 private key in PEM (PKCS#8)');
    const privateKey = toEd25519PrivateKey(pem, ASSERTION_ENV.PRIVATE_KEY);
    const keyId = env[ASSERTION_ENV.KEY_ID]?.trim() || assertionKeyId(privateKey);
    return { privateKey, keyId };
  }
  const raw = required(env, ASSERTION_ENV.PUBLIC_KEYS, 'a public key PEM or a JSON object of key id → PEM');
  return { publicKeys: Object.fromEntries(parseEd25519PublicKeys(raw, ASSERTION_ENV.PUBLIC_KEYS)) };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function encodeJson(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAssertionClaims(
  value: Record<string, unknown> | undefined,
): value is Record<string, unknown> & AssertionClaims {
  if (!value) return false;
  for (const name of ['iss', 'aud', 'sub', 'purpose', 'pv', 'rid', 'rd', 'jti'] as const) {
    if (typeof value[name] !== 'string' || value[name] === '') return false;
  }
  return Number.isInteger(value.iat) && Number.isInteger(value.exp);
}

function required(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      `${name} is not set: it must hold ${what}. Generate a key pair with generateAssertionKeyPair() (lib/identity/assertion.ts).`,
    );
  }
  return value;
}

import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import type { Issuer } from '../policy/decision/model.ts';
import { ErrorCode } from '../error-registry.ts';
import { IdentityError, quoteForMessage } from './identity-error.ts';

/**
 * Bearer tokens (JWTs) from the identity providers a policy trusts (`issuers`). Each issuer has
 * its own audience and key set; a token is checked only against the keys of the issuer it names.
 */

/**
 * Asymmetric algorithms only: with HS256 anyone who can verify could also mint tokens, and
 * pinning the list stops a token from choosing a weaker algorithm than its issuer uses.
 */
export const ALLOWED_JWT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;

/** Default clock skew allowed on exp/nbf/iat between the issuer and the gateway. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** The longest a token may be valid (exp - iat, or exp - now without iat) unless its issuer's entry says otherwise. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;

export interface JwtVerifierOptions {
  /** The policies folder: `jwksFile` paths are relative to it. */
  policiesDir: string;
  clockToleranceSeconds?: number;
}

export interface VerifiedJwt {
  issuer: string;
  subject: string;
}

export interface JwtVerifier {
  /** `now` exists for tests and replays; by default the current time. */
  verify(token: string, now?: Date): Promise<VerifiedJwt>;
}

interface IssuerEntry {
  issuer: Issuer;
  keys: JWTVerifyGetKey;
}

export function createJwtVerifier(issuers: readonly Issuer[], options: JwtVerifierOptions): JwtVerifier {
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const byIssuer = new Map<string, IssuerEntry>();
  for (const issuer of issuers) {
    if (byIssuer.has(issuer.issuer)) throw new Error(`Issuer "${issuer.issuer}" is configured twice`);
    byIssuer.set(issuer.issuer, { issuer, keys: keySetOf(issuer, options.policiesDir) });
  }

  return {
    async verify(token, now) {
      // The issuer picks the key set, so read it before verifying; nothing from this unverified
      // payload is trusted beyond choosing which keys to try.
      let claimedIssuer: unknown;
      try {
        claimedIssuer = decodeJwt(token).iss;
      } catch {
        throw new IdentityError(ErrorCode.INVALID_TOKEN, { detail: 'not a decodable JWT' });
      }
      if (typeof claimedIssuer !== 'string') {
        throw new IdentityError(ErrorCode.INVALID_TOKEN, { detail: 'no "iss" claim' });
      }
      const entry = byIssuer.get(claimedIssuer);
      if (!entry) {
        throw new IdentityError(ErrorCode.UNKNOWN_ISSUER, {
          message: `Tokens from issuer ${quoteForMessage(claimedIssuer, 200)} are not accepted by Credence.`,
        });
      }

      try {
        const { payload } = await jwtVerify(token, entry.keys, {
          issuer: entry.issuer.issuer,
          audience: entry.issuer.audience,
          algorithms: [...ALLOWED_JWT_ALGORITHMS],
          clockTolerance,
          // Without exp a token would never expire; without sub it names no one.
          requiredClaims: ['exp', 'sub'],
          ...(now ? { currentDate: now } : {}),
        });
        if (typeof payload.sub !== 'string' || payload.sub === '') {
          throw new IdentityError(ErrorCode.INVALID_TOKEN, { detail: '"sub" is not a non-empty string' });
        }
        checkLifetime(payload, entry.issuer, clockTolerance, now ?? new Date());
        return { issuer: entry.issuer.issuer, subject: payload.sub };
      } catch (error) {
        throw toIdentityError(error, entry.issuer.issuer);
      }
    },
  };
}

/**
 * A stolen token is only as dangerous as it is long-lived: refuse one valid for longer than its
 * issuer's maximum lifetime (from iat, or from now when it has none), and one issued in the future
 * beyond the clock tolerance.
 */
function checkLifetime(
  payload: { iat?: number | undefined; exp?: number | undefined },
  issuer: Issuer,
  clockTolerance: number,
  now: Date,
): void {
  const nowSeconds = now.getTime() / 1000;
  const maxLifetime = issuer.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + clockTolerance) {
    throw new IdentityError(ErrorCode.INVALID_TOKEN, { detail: `issuer ${issuer.issuer}: iat is in the future` });
  }
  const from = typeof payload.iat === 'number' ? payload.iat : nowSeconds;
  if (typeof payload.exp === 'number' && payload.exp - from > maxLifetime + clockTolerance) {
    throw new IdentityError(ErrorCode.INVALID_TOKEN, {
      detail: `issuer ${issuer.issuer}: valid for ${Math.round(payload.exp - from)} s, more than ${maxLifetime} s`,
    });
  }
}

function toIdentityError(error: unknown, issuer: string): IdentityError {
  if (error instanceof IdentityError) return error;
  if (error instanceof errors.JWTExpired) {
    return new IdentityError(ErrorCode.TOKEN_EXPIRED, { detail: `issuer ${issuer}: ${error.code}` });
  }
  // jose's messages name the failed check (audience, nbf, signature, alg) and never contain the
  // token; they go to the log, while the consumer gets the generic INVALID_TOKEN message.
  const reason =
    error instanceof errors.JOSEError ? `${error.code}: ${error.message}` : 'unexpected verification failure';
  return new IdentityError(ErrorCode.INVALID_TOKEN, { detail: `issuer ${issuer}: ${reason}` });
}

function keySetOf(issuer: Issuer, policiesDir: string): JWTVerifyGetKey {
  if (issuer.jwksFile && issuer.jwksUri) {
    throw new Error(`Issuer "${issuer.issuer}": set either jwksFile or jwksUri, not both`);
  }
  if (issuer.jwksFile) return localKeySet(issuer, issuer.jwksFile, policiesDir);
  if (issuer.jwksUri) return remoteKeySet(issuer, issuer.jwksUri);
  throw new Error(`Issuer "${issuer.issuer}": jwksFile or jwksUri is required`);
}

/** Read once, when the policy version is loaded: a changed file arrives as a new policy version. */
function localKeySet(issuer: Issuer, jwksFile: string, policiesDir: string): JWTVerifyGetKey {
  const root = resolve(policiesDir);
  const path = resolve(root, jwksFile);
  const fromRoot = relative(root, path);
  if (fromRoot.startsWith('..') || isAbsolute(fromRoot)) {
    throw new Error(`Issuer "${issuer.issuer}": jwksFile "${jwksFile}" must be inside the policies folder`);
  }
  let jwks: JSONWebKeySet;
  try {
    // The key set of the policy version in force; the file on this machine only when the
    // version carries none (a policy built by hand, in tests).
    jwks = JSON.parse(issuer.jwks ?? readFileSync(path, 'utf8')) as JSONWebKeySet;
  } catch (error) {
    throw new Error(`Issuer "${issuer.issuer}": cannot read JWKS file "${jwksFile}": ${(error as Error).message}`);
  }
  try {
    // createLocalJWKSet validates the set's shape now, not at the first request.
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw new Error(`Issuer "${issuer.issuer}": "${jwksFile}" is not a JSON Web Key Set: ${(error as Error).message}`);
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * jose caches the fetched set (10 minutes), refetches at most every 30 s when a token names an
 * unknown kid (the issuer rotated), and times out after 5 s.
 */
function remoteKeySet(issuer: Issuer, jwksUri: string): JWTVerifyGetKey {
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw new Error(`Issuer "${issuer.issuer}": jwksUri "${jwksUri}" is not a URL`);
  }
  // Whoever can alter the key set in transit can mint tokens: HTTPS, except on this machine.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new Error(`Issuer "${issuer.issuer}": jwksUri must use https (plain http only for loopback addresses)`);
  }
  const remote = createRemoteJWKSet(url);
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      // No key for the token's kid or alg is the token's fault; jose needs these as they are
      // (several matching keys carry an iterator it tries in turn).
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      // Anything else (network, timeout, non-200, not JSON) is the issuer being unreachable:
      // answering 401 would tell a partner its valid token is bad.
      const reason = error instanceof Error ? error.message : String(error);
      throw new IdentityError(ErrorCode.ISSUER_UNAVAILABLE, {
        detail: `issuer ${issuer.issuer}: JWKS ${url.origin}${url.pathname}: ${reason}`,
      });
    }
  };
}

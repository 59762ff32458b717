import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyCredential, Consumer } from '../policy/decision/model.ts';

/**
 * API keys: random secrets handed to a partner agency once; the policy stores only their hash.
 *
 * The prefix makes a leaked key recognisable to secret scanners and to people reading a log
 * ("that is a Credence key"); it carries no information about the consumer.
 */
export const API_KEY_PREFIX = 'cred_';

/** 32 random bytes (256 bits), base64url: `cred_` + 43 characters, safe in headers and URLs. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Lower-case hex SHA-256 of the key, as `ApiKeyCredential.sha256` stores it.
 *
 * A fast hash is right here, unlike for passwords: a key is 256 bits from a CSPRNG, so there is
 * no dictionary to try and a leaked hash cannot be brute-forced whatever the hash speed. A slow
 * KDF (bcrypt, scrypt, argon2) would add nothing but tens of milliseconds to every request and
 * hand an attacker a cheap way to burn gateway CPU. SHA-256 also lets the lookup be one Map get.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export type ApiKeyLookup =
  | { consumer: Consumer; keyId: string }
  | { error: 'UNKNOWN' | 'EXPIRED' | 'NOT_YET_VALID' | 'REVOKED'; keyId?: string };

export interface ApiKeyIndex {
  find(key: string, now: Date): ApiKeyLookup;
}

/** Keys longer than this are refused unhashed: no real key is, and hashing costs CPU. */
const MAX_KEY_LENGTH = 256;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Indexes every consumer's keys by hash, once per policy version, so that a request costs one
 * SHA-256 and one Map lookup however many consumers and keys there are.
 *
 * Rotation with overlap is simply several keys on one consumer, each with its own
 * notBefore/notAfter window: during the overlap both the old and the new key work.
 *
 * Comparing by Map lookup rather than a constant-time compare is safe: what is looked up is a
 * hash of the caller's input, and steering its bytes towards a stored hash would need
 * SHA-256 preimages, so lookup timing reveals nothing about stored keys.
 */
export function createApiKeyIndex(consumers: Iterable<Consumer>): ApiKeyIndex {
  const byHash = new Map<string, { consumer: Consumer; credential: ApiKeyCredential }>();
  for (const consumer of consumers) {
    for (const credential of consumer.apiKeys) {
      // A malformed or shared hash is a policy error: it would silently never match, or match
      // as whichever consumer came last. Refuse the policy version instead.
      if (!SHA256_HEX.test(credential.sha256)) {
        throw new Error(
          `API key "${credential.id}" of consumer "${consumer.id}": sha256 must be 64 lower-case hex characters`,
        );
      }
      const existing = byHash.get(credential.sha256);
      if (existing) {
        throw new Error(
          `API key "${credential.id}" of consumer "${consumer.id}" has the same hash as key "${existing.credential.id}" of consumer "${existing.consumer.id}"`,
        );
      }
      byHash.set(credential.sha256, { consumer, credential });
    }
  }

  return {
    find(key, now) {
      if (key.length === 0 || key.length > MAX_KEY_LENGTH) return { error: 'UNKNOWN' };
      const entry = byHash.get(hashApiKey(key));
      if (!entry) return { error: 'UNKNOWN' };
      const { consumer, credential } = entry;
      const keyId = credential.id;
      // Revocation wins over any window: a revoked key must never work again.
      if (credential.revoked) return { error: 'REVOKED', keyId };
      const t = now.getTime();
      if (credential.notBefore && t < credential.notBefore.getTime()) return { error: 'NOT_YET_VALID', keyId };
      // notAfter is the last valid instant (inclusive), as in X.509 certificates.
      if (credential.notAfter && t > credential.notAfter.getTime()) return { error: 'EXPIRED', keyId };
      return { consumer, keyId };
    },
  };
}

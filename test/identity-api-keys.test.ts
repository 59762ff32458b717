import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiKeyIndex, generateApiKey, hashApiKey } from '../lib/identity/api-keys.ts';
import type { ApiKeyCredential, Consumer } from '../lib/policy/decision/model.ts';

function consumer(id: string, apiKeys: ApiKeyCredential[]): Consumer {
  return { id, name: id, purposes: ['audit'], mode: 'reject', apiKeys, jwt: [], anonymous: false };
}

function credential(id: string, key: string, extra: Partial<ApiKeyCredential> = {}): ApiKeyCredential {
  return { id, sha256: hashApiKey(key), revoked: false, ...extra };
}

const day = 24 * 60 * 60 * 1000;
const now = new Date('2026-06-01T12:00:00Z');

describe('API keys', () => {
  it('generates prefixed, URL-safe 256-bit keys, all different', () => {
    const keys = new Set(Array.from({ length: 1000 }, generateApiKey));
    assert.equal(keys.size, 1000);
    for (const key of keys) assert.match(key, /^cred_[A-Za-z0-9_-]{43}$/);
  });

  it('hashes to lower-case hex SHA-256', () => {
    assert.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('finds the consumer and key id of a valid key, and nothing for an unknown one', () => {
    const key = generateApiKey();
    const tax = consumer('tax-bureau', [credential('2026-a', key)]);
    const index = createApiKeyIndex([tax, consumer('other', [credential('x', generateApiKey())])]);
    assert.deepEqual(index.find(key, now), { consumer: tax, keyId: '2026-a' });
    assert.deepEqual(index.find(generateApiKey(), now), { error: 'UNKNOWN' });
    assert.deepEqual(index.find('', now), { error: 'UNKNOWN' });
    assert.deepEqual(index.find('x'.repeat(10_000), now), { error: 'UNKNOWN' });
  });

  it('accepts both keys during a rotation overlap, then only the new one', () => {
    const oldKey = generateApiKey();
    const newKey = generateApiKey();
    const agency = consumer('agency', [
      credential('old', oldKey, { notAfter: new Date(now.getTime() + 7 * day) }),
      credential('new', newKey, { notBefore: new Date(now.getTime() - day) }),
    ]);
    const index = createApiKeyIndex([agency]);
    assert.deepEqual(index.find(oldKey, now), { consumer: agency, keyId: 'old' });
    assert.deepEqual(index.find(newKey, now), { consumer: agency, keyId: 'new' });
    const later = new Date(now.getTime() + 8 * day);
    assert.deepEqual(index.find(oldKey, later), { error: 'EXPIRED', keyId: 'old' });
    assert.deepEqual(index.find(newKey, later), { consumer: agency, keyId: 'new' });
  });

  it('refuses expired, not yet valid and revoked keys, naming the key id for the log', () => {
    const expired = generateApiKey();
    const future = generateApiKey();
    const revoked = generateApiKey();
    const index = createApiKeyIndex([
      consumer('agency', [
        credential('expired', expired, { notAfter: new Date(now.getTime() - 1) }),
        credential('future', future, { notBefore: new Date(now.getTime() + 1) }),
        // Revocation wins even inside the validity window.
        credential('revoked', revoked, {
          revoked: true,
          notBefore: new Date(now.getTime() - day),
          notAfter: new Date(now.getTime() + day),
        }),
      ]),
    ]);
    assert.deepEqual(index.find(expired, now), { error: 'EXPIRED', keyId: 'expired' });
    assert.deepEqual(index.find(future, now), { error: 'NOT_YET_VALID', keyId: 'future' });
    assert.deepEqual(index.find(revoked, now), { error: 'REVOKED', keyId: 'revoked' });
  });

  it('treats notBefore and notAfter as inclusive bounds', () => {
    const key = generateApiKey();
    const agency = consumer('agency', [credential('k', key, { notBefore: now, notAfter: now })]);
    assert.deepEqual(createApiKeyIndex([agency]).find(key, now), { consumer: agency, keyId: 'k' });
  });

  it('refuses a policy with a malformed hash or a hash shared by two keys', () => {
    assert.throws(
      () => createApiKeyIndex([consumer('a', [{ id: 'k', sha256: 'ABC', revoked: false }])]),
      /64 lower-case hex/,
    );
    const key = generateApiKey();
    assert.throws(
      () => createApiKeyIndex([consumer('a', [credential('k1', key)]), consumer('b', [credential('k2', key)])]),
      /same hash/,
    );
  });
});

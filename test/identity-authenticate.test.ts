import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';
import { generateApiKey, hashApiKey } from '../lib/identity/api-keys.ts';
import { createAuthenticator } from '../lib/identity/authenticate.ts';
import type { Authenticator, IdentityHeaders } from '../lib/identity/authenticate.ts';
import { IdentityError } from '../lib/identity/identity-error.ts';
import type { IdentityErrorCode } from '../lib/identity/identity-error.ts';
import type { CompiledPolicy, Consumer, Issuer } from '../lib/policy/decision/model.ts';

const ISSUER = 'https://idp.example.gov';
const now = new Date('2026-06-01T12:00:00Z');

function consumer(id: string, extra: Partial<Consumer> = {}): Consumer {
  return { id, name: id, purposes: [], mode: 'reject', apiKeys: [], jwt: [], anonymous: false, ...extra };
}

function policy(consumers: Consumer[], issuers: Issuer[] = []): CompiledPolicy {
  return { version: 'test-1', consumers: new Map(consumers.map((c) => [c.id, c])), issuers, view: () => undefined };
}

async function refused(promise: Promise<unknown>, code: IdentityErrorCode, status: number): Promise<IdentityError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof IdentityError, `expected IdentityError, got ${String(error)}`);
    assert.equal(error.code, code, error.detail);
    assert.equal(error.httpStatus, status);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('authenticator', () => {
  const taxKey = generateApiKey();
  const taxNextKey = generateApiKey();
  const revokedKey = generateApiKey();
  const bankKey = generateApiKey();
  const tax = consumer('tax-bureau', {
    purposes: ['credit-review', 'tax-audit'],
    apiKeys: [
      { id: 'tax-2026', sha256: hashApiKey(taxKey), revoked: false },
      { id: 'tax-2027', sha256: hashApiKey(taxNextKey), revoked: false, notBefore: new Date('2026-05-01T00:00:00Z') },
      { id: 'tax-2025', sha256: hashApiKey(revokedKey), revoked: true },
    ],
  });
  const bank = consumer('state-bank', {
    purposes: ['loan-underwriting'],
    defaultPurpose: 'loan-underwriting',
    apiKeys: [{ id: 'bank-1', sha256: hashApiKey(bankKey), revoked: false }],
  });
  const court = consumer('high-court', {
    purposes: ['enforcement'],
    defaultPurpose: 'enforcement',
    jwt: [{ issuer: ISSUER, subject: 'court-7' }],
  });
  const publicPortal = consumer('public', {
    purposes: ['public-display'],
    defaultPurpose: 'public-display',
    anonymous: true,
  });

  let dir: string;
  let signingKey: CryptoKey;
  let withAnonymous: Authenticator;
  let withoutAnonymous: Authenticator;

  async function jwt(subject: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience('credence')
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(new Date(now.getTime() + 300_000))
      .sign(signingKey);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credence-auth-'));
    const pair = await generateKeyPair('ES256', { extractable: true });
    signingKey = pair.privateKey;
    writeFileSync(
      join(dir, 'idp.jwks.json'),
      JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256' }] }),
    );
    const issuers = [{ issuer: ISSUER, audience: 'credence', jwksFile: 'idp.jwks.json' }];
    withoutAnonymous = createAuthenticator({ policy: policy([tax, bank, court], issuers), policiesDir: dir });
    withAnonymous = createAuthenticator({
      policy: policy([tax, bank, court, publicPortal], issuers),
      policiesDir: dir,
    });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('authenticates an API key with a declared purpose, and either key during rotation', async () => {
    const headers: IdentityHeaders = { 'x-api-key': taxKey, 'x-credence-purpose': 'tax-audit' };
    assert.deepEqual(await withoutAnonymous.authenticate(headers, now), {
      consumer: tax,
      purpose: 'tax-audit',
      credential: 'api-key',
      keyId: 'tax-2026',
    });
    const next = await withoutAnonymous.authenticate(
      { 'x-api-key': taxNextKey, 'x-credence-purpose': 'credit-review' },
      now,
    );
    assert.equal(next.keyId, 'tax-2027');
    assert.equal(withoutAnonymous.policyVersion, 'test-1');
  });

  it('gives one message for unknown, revoked and not yet valid keys, and the reason to the log', async () => {
    const unknown = await refused(
      withoutAnonymous.authenticate({ 'x-api-key': generateApiKey() }, now),
      'INVALID_API_KEY',
      401,
    );
    const revoked = await refused(
      withoutAnonymous.authenticate({ 'x-api-key': revokedKey }, now),
      'INVALID_API_KEY',
      401,
    );
    const early = await refused(
      withoutAnonymous.authenticate({ 'x-api-key': taxNextKey }, new Date('2026-01-01T00:00:00Z')),
      'INVALID_API_KEY',
      401,
    );
    assert.equal(unknown.message, revoked.message);
    assert.equal(unknown.message, early.message);
    assert.ok(!revoked.message.includes('tax-2025'));
    assert.match(revoked.detail ?? '', /tax-2025: REVOKED/);
    assert.match(early.detail ?? '', /tax-2027: NOT_YET_VALID/);
  });

  it('authenticates a JWT whose issuer and subject a consumer is registered under', async () => {
    assert.deepEqual(await withoutAnonymous.authenticate({ authorization: `Bearer ${await jwt('court-7')}` }, now), {
      consumer: court,
      purpose: 'enforcement',
      credential: 'jwt',
    });
    await refused(
      withoutAnonymous.authenticate({ authorization: `Bearer ${await jwt('court-8')}` }, now),
      'UNKNOWN_SUBJECT',
      401,
    );
    await refused(withoutAnonymous.authenticate({ authorization: 'Basic dXNlcjpwYXNz' }, now), 'INVALID_TOKEN', 401);
  });

  it('refuses both credentials at once', async () => {
    const token = await jwt('court-7');
    await refused(
      withAnonymous.authenticate({ 'x-api-key': taxKey, authorization: `Bearer ${token}` }, now),
      'AMBIGUOUS_CREDENTIALS',
      401,
    );
    await refused(
      withAnonymous.authenticate({ 'x-api-key': [taxKey, bankKey], 'x-credence-purpose': 'tax-audit' }, now),
      'AMBIGUOUS_CREDENTIALS',
      401,
    );
  });

  it('uses the anonymous consumer only when the policy defines one', async () => {
    await refused(withoutAnonymous.authenticate({}, now), 'CREDENTIALS_REQUIRED', 401);
    assert.deepEqual(await withAnonymous.authenticate({}, now), {
      consumer: publicPortal,
      purpose: 'public-display',
      credential: 'anonymous',
    });
    // A key header that is sent but empty is a broken client, not an anonymous one.
    await refused(withAnonymous.authenticate({ 'x-api-key': '' }, now), 'INVALID_API_KEY', 401);
  });

  it('uses the default purpose when none is declared, else asks for one', async () => {
    assert.equal((await withoutAnonymous.authenticate({ 'x-api-key': bankKey }, now)).purpose, 'loan-underwriting');
    assert.equal(
      (await withoutAnonymous.authenticate({ 'x-api-key': bankKey, 'x-credence-purpose': ' ' }, now)).purpose,
      'loan-underwriting',
    );
    const error = await refused(withoutAnonymous.authenticate({ 'x-api-key': taxKey }, now), 'PURPOSE_REQUIRED', 403);
    assert.match(error.message, /X-Credence-Purpose/);
    assert.match(error.message, /credit-review, tax-audit/);
  });

  it("refuses a purpose not allowed, naming it and only the caller's own purposes", async () => {
    const error = await refused(
      withoutAnonymous.authenticate({ 'x-api-key': taxKey, 'x-credence-purpose': 'loan-underwriting' }, now),
      'PURPOSE_NOT_ALLOWED',
      403,
    );
    assert.match(error.message, /"loan-underwriting" is not allowed/);
    assert.match(error.message, /Allowed purposes: credit-review, tax-audit\./);
    assert.ok(!error.message.includes('enforcement') && !error.message.includes('public-display'));
  });

  it('checks the default purpose against the allowed purposes too', async () => {
    const odd = consumer('odd', { purposes: ['a'], defaultPurpose: 'b', anonymous: true });
    const auth = createAuthenticator({ policy: policy([odd]), policiesDir: dir });
    await refused(auth.authenticate({}, now), 'PURPOSE_NOT_ALLOWED', 403);
  });

  it('refuses a policy with two anonymous consumers, a shared JWT subject or an unconfigured issuer', () => {
    assert.throws(
      () =>
        createAuthenticator({ policy: policy([publicPortal, consumer('p2', { anonymous: true })]), policiesDir: dir }),
      /one anonymous/,
    );
    assert.throws(() => createAuthenticator({ policy: policy([court]), policiesDir: dir }), /not configured/);
    const issuers = [{ issuer: ISSUER, audience: 'credence', jwksFile: 'idp.jwks.json' }];
    const twin = consumer('twin', { jwt: [{ issuer: ISSUER, subject: 'court-7' }] });
    assert.throws(
      () => createAuthenticator({ policy: policy([court, twin], issuers), policiesDir: dir }),
      /claimed by consumers/,
    );
  });
});

import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ASSERTION_HEADER,
  assertionKeyId,
  createAssertionSigner,
  createAssertionVerifier,
  generateAssertionKeyPair,
  loadAssertionKeys,
  requestDigest,
} from '../lib/identity/assertion.ts';
import { IdentityError } from '../lib/identity/identity-error.ts';
import type { IdentityErrorCode } from '../lib/identity/identity-error.ts';

const identity = { consumer: 'tax-bureau', purpose: 'credit-review', policyVersion: 'sha256:abc', requestId: 'req-1' };
const now = new Date('2026-06-01T12:00:00Z');
/** The one department call the assertions here are for. */
const call = { audience: 'registry', request: { query: '{ subject(uscc: "x") { name } }', variables: { a: 1 } } };
const gatewayKeys = generateAssertionKeyPair();

function throwsIdentity(fn: () => unknown, code: IdentityErrorCode): IdentityError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof IdentityError, `expected IdentityError, got ${String(error)}`);
    assert.equal(error.code, code, error.detail);
    assert.equal(error.httpStatus, 401);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/** An assertion built by hand, signed with a real key: what a broken or hostile signer could send. */
function handMade(header: object, claims: object, privateKeyPem = gatewayKeys.privateKeyPem): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), createPrivateKey(privateKeyPem)).toString('base64url')}`;
}

const iat = Math.floor(now.getTime() / 1000);
const goodHeader = { alg: 'EdDSA', typ: 'credence-assertion+jwt', kid: gatewayKeys.keyId };
const goodClaims = {
  iss: 'credence-gateway',
  aud: 'registry',
  sub: 'tax-bureau',
  purpose: 'p',
  pv: 'v',
  rid: 'r',
  rd: requestDigest(call.request),
  jti: 'j-1',
  iat,
  exp: iat + 30,
};

describe('gateway identity assertion', () => {
  const signer = createAssertionSigner({ privateKey: gatewayKeys.privateKeyPem, keyId: gatewayKeys.keyId });
  const verifier = createAssertionVerifier({ publicKeys: { [gatewayKeys.keyId]: gatewayKeys.publicKeyPem } });

  it('round-trips consumer, purpose, policy version and request id', () => {
    assert.equal(ASSERTION_HEADER, 'x-credence-assertion');
    const token = signer.sign(identity, call, now);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as unknown;
    assert.deepEqual(header, { alg: 'EdDSA', typ: 'credence-assertion+jwt', kid: gatewayKeys.keyId });
    const verified = verifier.verify(token, call, new Date(now.getTime() + 10_000));
    assert.match(verified.assertionId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(verified, {
      ...identity,
      assertionId: verified.assertionId,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + 30_000),
      keyId: gatewayKeys.keyId,
    });
  });

  it('derives the key id from the public key', () => {
    assert.match(gatewayKeys.keyId, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(assertionKeyId(gatewayKeys.publicKeyPem), gatewayKeys.keyId);
    assert.equal(assertionKeyId(createPrivateKey(gatewayKeys.privateKeyPem)), gatewayKeys.keyId);
  });

  it('refuses a missing assertion', () => {
    throwsIdentity(() => verifier.verify(undefined, call, now), 'ASSERTION_MISSING');
    throwsIdentity(() => verifier.verify('', call, now), 'ASSERTION_MISSING');
  });

  it('refuses a tampered payload', () => {
    const [header, , signature] = signer.sign(identity, call, now).split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...goodClaims, sub: 'credit-office' })).toString('base64url');
    throwsIdentity(() => verifier.verify(`${header}.${forged}.${signature}`, call, now), 'ASSERTION_INVALID');
  });

  it('refuses an assertion signed with another key, under a known or an unknown key id', () => {
    const other = generateAssertionKeyPair();
    const sameKid = createAssertionSigner({ privateKey: other.privateKeyPem, keyId: gatewayKeys.keyId });
    throwsIdentity(() => verifier.verify(sameKid.sign(identity, call, now), call, now), 'ASSERTION_INVALID');
    const ownKid = createAssertionSigner({ privateKey: other.privateKeyPem, keyId: other.keyId });
    const error = throwsIdentity(
      () => verifier.verify(ownKid.sign(identity, call, now), call, now),
      'ASSERTION_INVALID',
    );
    assert.match(error.detail ?? '', /unknown key id/);
  });

  it('accepts every key of a rotation', () => {
    const next = generateAssertionKeyPair();
    const both = createAssertionVerifier({
      publicKeys: { [gatewayKeys.keyId]: gatewayKeys.publicKeyPem, [next.keyId]: next.publicKeyPem },
    });
    const nextSigner = createAssertionSigner({ privateKey: next.privateKeyPem, keyId: next.keyId });
    assert.equal(both.verify(signer.sign(identity, call, now), call, now).keyId, gatewayKeys.keyId);
    assert.equal(both.verify(nextSigner.sign(identity, call, now), call, now).keyId, next.keyId);
  });

  it('refuses an expired assertion, tolerating a few seconds of clock skew', () => {
    const token = signer.sign(identity, call, now);
    assert.equal(verifier.verify(token, call, new Date(now.getTime() + 32_000)).consumer, 'tax-bureau');
    throwsIdentity(() => verifier.verify(token, call, new Date(now.getTime() + 36_000)), 'ASSERTION_EXPIRED');
  });

  it('refuses lifetimes over 60 seconds, in the signer and in the verifier', () => {
    assert.throws(
      () => createAssertionSigner({ privateKey: gatewayKeys.privateKeyPem, keyId: 'k', lifetimeSeconds: 61 }),
      /1 to 60/,
    );
    assert.throws(
      () => createAssertionSigner({ privateKey: gatewayKeys.privateKeyPem, keyId: 'k', lifetimeSeconds: 0 }),
      /1 to 60/,
    );
    const sixty = createAssertionSigner({
      privateKey: gatewayKeys.privateKeyPem,
      keyId: gatewayKeys.keyId,
      lifetimeSeconds: 60,
    });
    assert.equal(
      verifier.verify(sixty.sign(identity, call, now), call, now).expiresAt.getTime() - now.getTime(),
      60_000,
    );
    const longLived = handMade(goodHeader, { ...goodClaims, exp: iat + 3600 });
    const error = throwsIdentity(() => verifier.verify(longLived, call, now), 'ASSERTION_INVALID');
    assert.match(error.detail ?? '', /lifetime/);
  });

  it('refuses the wrong audience, issuer, type or algorithm, and malformed tokens', () => {
    assert.equal(verifier.verify(handMade(goodHeader, goodClaims), call, now).consumer, 'tax-bureau');
    throwsIdentity(
      () => verifier.verify(handMade(goodHeader, { ...goodClaims, aud: 'elsewhere' }), call, now),
      'ASSERTION_AUDIENCE_MISMATCH',
    );
    throwsIdentity(
      () =>
        verifier.verify(
          handMade(goodHeader, goodClaims),
          { ...call, request: { ...call.request, variables: { a: 2 } } },
          now,
        ),
      'ASSERTION_REQUEST_MISMATCH',
    );
    throwsIdentity(
      () => verifier.verify(handMade(goodHeader, { ...goodClaims, rd: undefined }), call, now),
      'ASSERTION_INVALID',
    );
    throwsIdentity(
      () => verifier.verify(handMade(goodHeader, { ...goodClaims, iss: 'someone' }), call, now),
      'ASSERTION_INVALID',
    );
    throwsIdentity(
      () => verifier.verify(handMade({ ...goodHeader, typ: 'JWT' }, goodClaims), call, now),
      'ASSERTION_INVALID',
    );
    throwsIdentity(
      () => verifier.verify(handMade({ ...goodHeader, alg: 'none' }, goodClaims), call, now),
      'ASSERTION_INVALID',
    );
    throwsIdentity(
      () => verifier.verify(handMade(goodHeader, { ...goodClaims, iat: iat + 600, exp: iat + 630 }), call, now),
      'ASSERTION_INVALID',
    );
    throwsIdentity(
      () => verifier.verify(handMade(goodHeader, { ...goodClaims, sub: undefined }), call, now),
      'ASSERTION_INVALID',
    );
    for (const junk of [
      'a.b',
      'a.b.c.d',
      'x-consumer: tax-bureau',
      `${signer.sign(identity, call, now)}!`,
      'e30.e30.' + 'A'.repeat(5000),
    ]) {
      throwsIdentity(() => verifier.verify(junk, call, now), 'ASSERTION_INVALID');
    }
  });

  it('refuses non-Ed25519 keys and a private key where a public one belongs', () => {
    assert.throws(() => createAssertionVerifier({ publicKeys: { k: gatewayKeys.privateKeyPem } }), /private key/);
    assert.throws(() => createAssertionVerifier({ publicKeys: {} }), /at least one/);
    assert.throws(() => createAssertionSigner({ privateKey: gatewayKeys.publicKeyPem, keyId: 'k' }));
  });
});

describe('loadAssertionKeys', () => {
  it('loads the gateway key and a single subgraph PEM that agree on the key id', () => {
    const env = {
      CREDENCE_ASSERTION_PRIVATE_KEY: gatewayKeys.privateKeyPem.replace(/\n/g, '\\n'), // as .env files write it
      CREDENCE_ASSERTION_PUBLIC_KEYS: gatewayKeys.publicKeyPem,
    };
    const signerOptions = loadAssertionKeys(env, 'signer');
    assert.equal(signerOptions.keyId, gatewayKeys.keyId);
    const verifierOptions = loadAssertionKeys(env, 'verifier');
    assert.deepEqual(Object.keys(verifierOptions.publicKeys), [gatewayKeys.keyId]);
    const token = createAssertionSigner(signerOptions).sign(identity, call, now);
    assert.equal(createAssertionVerifier(verifierOptions).verify(token, call, now).consumer, 'tax-bureau');
  });

  it('loads a JSON object of key id to PEM, for rotation', () => {
    const next = generateAssertionKeyPair();
    const env = {
      CREDENCE_ASSERTION_PUBLIC_KEYS: JSON.stringify({
        old: gatewayKeys.publicKeyPem,
        [next.keyId]: next.publicKeyPem,
      }),
    };
    assert.deepEqual(Object.keys(loadAssertionKeys(env, 'verifier').publicKeys), ['old', next.keyId]);
  });

  it('says which variable is missing or malformed', () => {
    assert.throws(() => loadAssertionKeys({}, 'signer'), /CREDENCE_ASSERTION_PRIVATE_KEY is not set/);
    assert.throws(() => loadAssertionKeys({}, 'verifier'), /CREDENCE_ASSERTION_PUBLIC_KEYS is not set/);
    assert.throws(
      () => loadAssertionKeys({ CREDENCE_ASSERTION_PRIVATE_KEY: 'nonsense' }, 'signer'),
      /CREDENCE_ASSERTION_PRIVATE_KEY is not an Ed25519 private key/,
    );
    assert.throws(() => loadAssertionKeys({ CREDENCE_ASSERTION_PUBLIC_KEYS: '{"k": ' }, 'verifier'), /does not parse/);
    assert.throws(
      () => loadAssertionKeys({ CREDENCE_ASSERTION_PUBLIC_KEYS: '{"k": 1}' }, 'verifier'),
      /"k" must be a PEM string/,
    );
    assert.throws(
      () => loadAssertionKeys({ CREDENCE_ASSERTION_PUBLIC_KEYS: gatewayKeys.privateKeyPem }, 'verifier'),
      /private key/,
    );
  });
});

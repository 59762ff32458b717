import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { IdentityError } from '../lib/identity/identity-error.ts';
import type { IdentityErrorCode } from '../lib/identity/identity-error.ts';
import { createJwtVerifier } from '../lib/identity/jwt.ts';
import type { JwtVerifier } from '../lib/identity/jwt.ts';

const LOCAL_ISSUER = 'https://idp.tax.example.gov';
const REMOTE_ISSUER = 'https://idp.courts.example.gov';
const AUDIENCE = 'credence';

interface SigningKey {
  privateKey: CryptoKey;
  jwk: JWK;
  alg: string;
}

async function signingKey(alg: 'ES256' | 'EdDSA' | 'RS256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, alg };
}

async function token(
  key: SigningKey,
  claims: { iss?: string; aud?: string; sub?: string; exp?: number | string | null; nbf?: number },
): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: key.alg, kid: key.jwk.kid ?? '' }).setIssuedAt();
  if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? '5m');
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  return jwt.sign(key.privateKey);
}

async function rejects(promise: Promise<unknown>, code: IdentityErrorCode, secret?: string): Promise<IdentityError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof IdentityError, `expected IdentityError, got ${String(error)}`);
    assert.equal(error.code, code, error.detail);
    if (secret) {
      assert.ok(
        !error.message.includes(secret) && !(error.detail ?? '').includes(secret),
        'the token leaked into the error',
      );
    }
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('JWT verification', () => {
  let dir: string;
  let localKey: SigningKey;
  let remoteKey: SigningKey;
  let rsaKey: SigningKey;
  let strangerKey: SigningKey;
  let jwksRequests = 0;
  const server = createServer((request, response) => {
    jwksRequests += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [remoteKey.jwk, rsaKey.jwk] }));
  });
  let jwksUri: string;
  let verifier: JwtVerifier;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credence-jwt-'));
    localKey = await signingKey('ES256', 'tax-1');
    remoteKey = await signingKey('EdDSA', 'courts-1');
    rsaKey = await signingKey('RS256', 'courts-rsa');
    // Same kid as the local issuer's key, but a different key pair: a forgery attempt.
    strangerKey = await signingKey('ES256', 'tax-1');
    writeFileSync(join(dir, 'tax-jwks.json'), JSON.stringify({ keys: [localKey.jwk] }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    verifier = createJwtVerifier(
      [
        { issuer: LOCAL_ISSUER, audience: AUDIENCE, jwksFile: 'tax-jwks.json' },
        { issuer: REMOTE_ISSUER, audience: AUDIENCE, jwksUri },
      ],
      { policiesDir: dir, clockToleranceSeconds: 30 },
    );
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a valid token from a local JWKS file', async () => {
    const jwt = await token(localKey, { iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'tax-bureau' });
    assert.deepEqual(await verifier.verify(jwt), { issuer: LOCAL_ISSUER, subject: 'tax-bureau' });
  });

  it('accepts EdDSA and RS256 tokens from a remote JWKS, fetched once and cached', async () => {
    const before = jwksRequests;
    for (const key of [remoteKey, rsaKey, remoteKey]) {
      const jwt = await token(key, { iss: REMOTE_ISSUER, aud: AUDIENCE, sub: 'court-7' });
      assert.deepEqual(await verifier.verify(jwt), { issuer: REMOTE_ISSUER, subject: 'court-7' });
    }
    assert.ok(jwksRequests - before <= 1, `JWKS fetched ${jwksRequests - before} times`);
  });

  it('refuses a token for another audience', async () => {
    const jwt = await token(localKey, { iss: LOCAL_ISSUER, aud: 'someone-else', sub: 'tax-bureau' });
    const error = await rejects(verifier.verify(jwt), 'INVALID_TOKEN', jwt);
    assert.equal(error.httpStatus, 401);
    assert.match(error.detail ?? '', /aud/);
  });

  it('refuses a token from an issuer that is not configured', async () => {
    const jwt = await token(localKey, { iss: 'https://evil.example', aud: AUDIENCE, sub: 'tax-bureau' });
    const error = await rejects(verifier.verify(jwt), 'UNKNOWN_ISSUER', jwt);
    assert.equal(error.httpStatus, 401);
  });

  it("refuses a token naming one configured issuer but signed with another issuer's key", async () => {
    const jwt = await token(remoteKey, { iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'tax-bureau' });
    await rejects(verifier.verify(jwt), 'INVALID_TOKEN', jwt);
  });

  it('refuses an expired token, but tolerates small clock skew', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expired = await token(localKey, {
      iss: LOCAL_ISSUER,
      aud: AUDIENCE,
      sub: 'tax-bureau',
      exp: nowSeconds - 120,
    });
    const error = await rejects(verifier.verify(expired), 'TOKEN_EXPIRED', expired);
    assert.equal(error.httpStatus, 401);
    const justExpired = await token(localKey, {
      iss: LOCAL_ISSUER,
      aud: AUDIENCE,
      sub: 'tax-bureau',
      exp: nowSeconds - 5,
    });
    assert.equal((await verifier.verify(justExpired)).subject, 'tax-bureau');
  });

  it('refuses a token that is not yet valid, and one without exp', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const early = await token(localKey, { iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'tax-bureau', nbf: nowSeconds + 600 });
    await rejects(verifier.verify(early), 'INVALID_TOKEN', early);
    const eternal = await token(localKey, { iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'tax-bureau', exp: null });
    await rejects(verifier.verify(eternal), 'INVALID_TOKEN', eternal);
  });

  it('refuses a bad signature: a forged key with the right kid, and a tampered payload', async () => {
    const forged = await token(strangerKey, { iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'tax-bureau' });
    await rejects(verifier.verify(forged), 'INVALID_TOKEN', forged);

    const genuine = await token(localKey, { iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'tax-bureau' });
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = [
      header,
      Buffer.from(JSON.stringify({ ...claims, sub: 'credit-office' })).toString('base64url'),
      signature,
    ].join('.');
    const error = await rejects(verifier.verify(tampered), 'INVALID_TOKEN', tampered);
    assert.match(error.detail ?? '', /signature/);
  });

  it('refuses symmetric and unsigned tokens', async () => {
    const hs256 = await new SignJWT({ sub: 'tax-bureau' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
    await rejects(verifier.verify(hs256), 'INVALID_TOKEN', hs256);
    const body = Buffer.from(
      JSON.stringify({ iss: LOCAL_ISSUER, aud: AUDIENCE, sub: 'x', exp: 9_999_999_999 }),
    ).toString('base64url');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    await rejects(verifier.verify(unsigned), 'INVALID_TOKEN', unsigned);
    await rejects(verifier.verify('not a token'), 'INVALID_TOKEN');
  });

  it('answers 503 ISSUER_UNAVAILABLE when the remote JWKS cannot be fetched', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const offline = createJwtVerifier(
      [{ issuer: REMOTE_ISSUER, audience: AUDIENCE, jwksUri: `http://127.0.0.1:${port}/jwks.json` }],
      { policiesDir: dir },
    );
    const jwt = await token(remoteKey, { iss: REMOTE_ISSUER, aud: AUDIENCE, sub: 'court-7' });
    const error = await rejects(offline.verify(jwt), 'ISSUER_UNAVAILABLE', jwt);
    assert.equal(error.httpStatus, 503);
  });

  it('refuses unsafe issuer configuration when the policy is loaded', () => {
    assert.throws(
      () =>
        createJwtVerifier([{ issuer: 'a', audience: AUDIENCE, jwksUri: 'http://idp.example/jwks' }], {
          policiesDir: dir,
        }),
      /https/,
    );
    assert.throws(
      () => createJwtVerifier([{ issuer: 'a', audience: AUDIENCE, jwksFile: '../outside.json' }], { policiesDir: dir }),
      /inside the policies folder/,
    );
    assert.throws(
      () => createJwtVerifier([{ issuer: 'a', audience: AUDIENCE, jwksFile: 'missing.json' }], { policiesDir: dir }),
      /cannot read/,
    );
    assert.throws(
      () => createJwtVerifier([{ issuer: 'a', audience: AUDIENCE }], { policiesDir: dir }),
      /jwksFile or jwksUri/,
    );
  });
});

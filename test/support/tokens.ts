/** A token issuer's key pair made by a test (the shipped JWKS has no private half), and its tokens. */
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const COURT_ISSUER = 'https://idp.court.example';
export const COURT_AUDIENCE = 'credence';

export interface IssuerKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public key as the issuer's JWKS lists it. */
  jwk: JWK;
}

export async function newIssuerKey(kid: string): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** A token from the courts' identity provider (or whoever signs with `key`). */
export function courtToken(
  key: IssuerKey,
  claims: { iss?: string; sub?: string; aud?: string; exp?: number | string; iat?: number } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(claims.iss ?? COURT_ISSUER)
    .setAudience(claims.aud ?? COURT_AUDIENCE)
    .setSubject(claims.sub ?? 'court-enforcement')
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp ?? '5m')
    .sign(key.privateKey);
}

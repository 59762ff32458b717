/** Who is calling (gateway) and who the gateway says is calling (subgraphs). */
export { IDENTITY_ERROR_CODES, IdentityError } from './identity-error.ts';
export type { IdentityErrorCode, IdentityHttpStatus } from './identity-error.ts';
export { API_KEY_PREFIX, createApiKeyIndex, generateApiKey, hashApiKey } from './api-keys.ts';
export type { ApiKeyIndex, ApiKeyLookup } from './api-keys.ts';
export { ALLOWED_JWT_ALGORITHMS, createJwtVerifier } from './jwt.ts';
export type { JwtVerifier, JwtVerifierOptions, VerifiedJwt } from './jwt.ts';
export {
  ASSERTION_ENV,
  ASSERTION_HEADER,
  ASSERTION_ISSUER,
  ASSERTION_TYPE,
  MAX_ASSERTION_LIFETIME_SECONDS,
  assertionKeyId,
  createAssertionSigner,
  createAssertionVerifier,
  generateAssertionKeyPair,
  loadAssertionKeys,
  requestDigest,
} from './assertion.ts';
export type {
  AssertedIdentity,
  AssertionBinding,
  AssertionIdentity,
  AssertionSigner,
  AssertionSignerOptions,
  AssertionVerifier,
  AssertionVerifierOptions,
  DepartmentRequest,
} from './assertion.ts';
export { createReplayGuard } from './replay-guard.ts';
export type { ReplayGuard } from './replay-guard.ts';
export { API_KEY_HEADER, PURPOSE_HEADER, createAuthenticator } from './authenticate.ts';
export type { Authentication, Authenticator, AuthenticatorOptions, IdentityHeaders } from './authenticate.ts';

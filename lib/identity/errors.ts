/**
 * Why a request was refused before any data was touched. Every refusal of authentication or
 * purpose is an IdentityError: a stable code a partner agency can act on, the HTTP status the
 * gateway answers with, and a message written for the consumer.
 *
 * Messages never say which keys, subjects or consumers exist, and never echo a credential. What
 * the operator needs to investigate (which key id was revoked, what jose reported) goes in
 * `detail`, which is for the log only.
 */

/**
 * Every code, its HTTP status and the message a consumer gets unless the thrower gives a more
 * specific one. 401: who is calling could not be established. 403: the caller is known but may
 * not make this request. 503: the token may be fine but the issuer's keys could not be fetched.
 */
const CODES = {
  /** No credentials, and the policy defines no anonymous consumer. */
  CREDENTIALS_REQUIRED: [401, 'Credentials are required: send an API key in X-Api-Key or a token in Authorization: Bearer.'],
  /** Both X-Api-Key and Authorization were sent (or one of them twice): we refuse to guess. */
  AMBIGUOUS_CREDENTIALS: [401, 'Send either X-Api-Key or Authorization: Bearer, not both.'],
  /** Unknown, expired, not yet valid or revoked: deliberately not told apart (see `detail`). */
  INVALID_API_KEY: [401, 'The API key is not valid. It may be mistyped, expired, not yet valid or revoked; ask the Credence operators for a current key.'],
  /** Malformed, badly signed, for another audience, of a disallowed algorithm, not yet valid. */
  INVALID_TOKEN: [401, 'The bearer token is not valid.'],
  TOKEN_EXPIRED: [401, 'The bearer token has expired; obtain a new one from its issuer.'],
  /** The token's `iss` is not among the policy's issuers. */
  UNKNOWN_ISSUER: [401, 'The bearer token comes from an issuer Credence does not trust.'],
  /** A valid token from a trusted issuer whose `sub` no consumer is registered under. */
  UNKNOWN_SUBJECT: [401, 'The bearer token is valid but its subject is not registered as a Credence consumer.'],
  /** Subgraphs: no gateway assertion on the request. */
  ASSERTION_MISSING: [401, 'This service only answers requests forwarded by the Credence gateway.'],
  /** Subgraphs: bad format or signature, unknown key id, wrong iss/aud, lifetime over 60 s. */
  ASSERTION_INVALID: [401, 'The gateway identity assertion is not valid.'],
  ASSERTION_EXPIRED: [401, 'The gateway identity assertion has expired.'],
  /** Subgraphs: the assertion was issued for a call to another department. */
  ASSERTION_AUDIENCE_MISMATCH: [401, 'The gateway identity assertion was issued for another department.'],
  /** Subgraphs: the assertion was issued for another operation or other variables than those received. */
  ASSERTION_REQUEST_MISMATCH: [401, 'The gateway identity assertion was issued for another request.'],
  /** Subgraphs: the assertion was already used; each is good for one call. */
  ASSERTION_REPLAYED: [401, 'The gateway identity assertion was already used.'],
  /** Subgraphs: whether the assertion was already used cannot be checked now (the shared store is unreachable). */
  ASSERTION_CHECK_UNAVAILABLE: [503, 'The gateway identity assertion cannot be checked now; try again shortly.'],
  /** No X-Credence-Purpose, and the consumer has no default purpose. */
  PURPOSE_REQUIRED: [403, 'Declare the purpose of this request in X-Credence-Purpose.'],
  /** The declared (or default) purpose is not one the policy allows this consumer. */
  PURPOSE_NOT_ALLOWED: [403, 'The declared purpose is not allowed for this consumer.'],
  /** The issuer's JWKS could not be fetched (network, timeout, bad answer): not the caller's fault. */
  ISSUER_UNAVAILABLE: [503, "The token issuer's signing keys could not be retrieved; try again shortly."],
} as const satisfies Record<string, readonly [IdentityHttpStatus, string]>;

export type IdentityErrorCode = keyof typeof CODES;
export type IdentityHttpStatus = 401 | 403 | 503;
export const IDENTITY_ERROR_CODES = Object.keys(CODES) as IdentityErrorCode[];

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly code: IdentityErrorCode;
  readonly httpStatus: IdentityHttpStatus;
  /** For the operator's log only; never sent to the consumer. Never contains a credential. */
  readonly detail: string | undefined;
  /** A purpose refusal: the consumer was authenticated, and the refusal is recorded in the access log under it. */
  readonly authenticated: { consumer: string; purpose: string } | undefined;

  constructor(code: IdentityErrorCode, options: { message?: string; detail?: string; authenticated?: { consumer: string; purpose: string } } = {}) {
    const [httpStatus, message] = CODES[code];
    super(options.message ?? message);
    this.code = code;
    this.httpStatus = httpStatus;
    this.detail = options.detail;
    this.authenticated = options.authenticated;
  }
}

/**
 * Quotes a value the caller sent (a purpose, an issuer) for a message: bounded in length and
 * JSON-escaped, so that a hostile header cannot forge log lines or bloat the answer.
 */
export function quoteForMessage(value: string, maxLength = 64): string {
  const cut = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  return JSON.stringify(cut);
}

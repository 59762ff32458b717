/**
 * Why a request was refused before any data was touched. Every refusal of authentication or
 * purpose is an IdentityError: a code of the error registry (lib/error-registry.ts, which holds
 * its HTTP status and the message a consumer gets unless the thrower gives a more specific one).
 *
 * Messages never say which keys, subjects or consumers exist, and never echo a credential. What
 * the operator needs to investigate (which key id was revoked, what jose reported) goes in
 * `detail`, which is for the log only.
 */
import { codedError, ERRORS, type IdentityErrorCode } from '../error-registry.ts';
import type { GraphQLError } from 'graphql';

export { IDENTITY_ERROR_CODES } from '../error-registry.ts';
export type { IdentityErrorCode };
/** 401: who is calling could not be established. 403: the caller is known but may not make this request. 503: the keys to check could not be fetched. */
export type IdentityHttpStatus = (typeof ERRORS)[IdentityErrorCode]['status'];

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly code: IdentityErrorCode;
  readonly httpStatus: IdentityHttpStatus;
  /** For the operator's log only; never sent to the consumer. Never contains a credential. */
  readonly detail: string | undefined;
  /** A purpose refusal: the consumer was authenticated, and the refusal is recorded in the access log under it. */
  readonly authenticated: { consumer: string; purpose: string } | undefined;

  constructor(
    code: IdentityErrorCode,
    options: { message?: string; detail?: string; authenticated?: { consumer: string; purpose: string } } = {},
  ) {
    const { status, message } = ERRORS[code];
    super(options.message ?? message);
    this.code = code;
    this.httpStatus = status;
    this.detail = options.detail;
    this.authenticated = options.authenticated;
  }

  /** The refusal a consumer gets: the code, the message and the HTTP status; never the detail. */
  toGraphQLError(): GraphQLError {
    return codedError(this.code, this.message);
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

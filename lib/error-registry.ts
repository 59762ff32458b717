/**
 * Every error code Credence answers with, in one table: the HTTP status of the answer, the message
 * a consumer gets unless the raiser words a more specific one, and the extensions besides `code`
 * the error may carry. Gateway, departments and identity checks raise errors only through
 * `codedError`, so a code cannot be misspelt, carry an undeclared extension, or drift from its
 * status; the README's answers table is checked against this table (test/answers-table.test.ts),
 * and a lint rule refuses code strings written anywhere else (docs/errors.md).
 *
 * Messages never contain stack traces, internal addresses, or anything the consumer may not see.
 */
import { GraphQLError, type ASTNode } from 'graphql';
import { HeaderMap } from '@apollo/server';
import { checkUscc } from './uscc.ts';

/**
 * `request`: the error refuses the request as a whole and sets the answer's HTTP status.
 * `field`: the error stands at a field's path in an answer (HTTP 200 with the rest of the data),
 * or refuses one mutation.
 */
export type ErrorScope = 'request' | 'field';

export interface ErrorDefinition {
  readonly status: number;
  readonly scope: ErrorScope;
  /** The message; `{name}` is replaced by the extension of that name. */
  readonly message: string;
  /** Extensions the error may carry besides `code` (and `http`, which the factory sets). */
  readonly extensions: readonly string[];
  /** Who raises it: the gateway, a department, or the identity checks both run. */
  readonly raisedBy: 'gateway' | 'department' | 'identity' | 'both';
}

/** The operation limits of a consumer (gateway/operation-limits.ts), each its own code with `extensions.limit`. */
const limit = (message: string) =>
  ({ status: 400, scope: 'request', message, extensions: ['limit'], raisedBy: 'gateway' }) as const;
/** A department refusing one mutation or one read for a reason of its own (nothing is written). */
const departmentRefusal = <const E extends readonly string[] = []>(message: string, extensions?: E) =>
  ({
    status: 200,
    scope: 'field',
    message,
    extensions: extensions ?? ([] as unknown as E),
    raisedBy: 'department',
  }) as const;
/** Authentication and purpose (gateway) and gateway assertions (departments): 401, 403 or 503. */
const identity = <const S extends 401 | 403 | 503>(status: S, message: string) =>
  ({ status, scope: 'request', message, extensions: [], raisedBy: 'identity' }) as const;

export const ERRORS = {
  // Transport and request shape.
  BAD_REQUEST: {
    status: 400,
    scope: 'request',
    message: 'The request is malformed.',
    extensions: [],
    raisedBy: 'both',
  },
  BATCHING_NOT_ALLOWED: {
    status: 400,
    scope: 'request',
    message: 'Batched requests are not accepted; send one operation per request.',
    extensions: [],
    raisedBy: 'both',
  },
  GRAPHQL_VALIDATION_FAILED: {
    status: 400,
    scope: 'request',
    message: 'The operation is not valid against your schema.',
    extensions: [],
    raisedBy: 'both',
  },
  NOT_FOUND: { status: 200, scope: 'field', message: 'Not found.', extensions: [], raisedBy: 'both' },
  // Operation limits, before any department is asked.
  DOCUMENT_TOO_LARGE: limit('The document is larger than {limit} bytes.'),
  TOO_MANY_TOKENS: limit('The document has more than {limit} tokens.'),
  QUERY_TOO_DEEP: limit('The operation is nested deeper than {limit} levels.'),
  TOO_MANY_ALIASES: limit('The operation has more than {limit} aliases.'),
  TOO_MANY_ROOT_FIELDS: limit('The operation selects more than {limit} root fields.'),
  QUERY_TOO_COMPLEX: {
    ...limit("The operation's estimated cost is above {limit}; ask for fewer items or fields."),
    raisedBy: 'both',
  },
  /** A variable's value nested deeper than any input of the schema, refused before anything walks it. */
  VARIABLES_TOO_DEEP: limit("A variable's value nests lists or objects more than {limit} levels deep."),
  // Rate limits and quotas: HTTP 429 with Retry-After.
  RATE_LIMITED: {
    status: 429,
    scope: 'request',
    message: 'Too many requests; try again in {retryAfterSeconds} s.',
    extensions: ['retryAfterSeconds'],
    raisedBy: 'gateway',
  },
  QUOTA_EXCEEDED: {
    status: 429,
    scope: 'request',
    message: 'Your daily quota is used up; try again in {retryAfterSeconds} s.',
    extensions: ['retryAfterSeconds'],
    raisedBy: 'gateway',
  },
  // Persisted operations.
  PERSISTED_QUERY_NOT_FOUND: {
    status: 400,
    scope: 'request',
    message: 'No operation with this hash is registered for you.',
    extensions: [],
    raisedBy: 'gateway',
  },
  OPERATION_NOT_REGISTERED: {
    status: 403,
    scope: 'request',
    message: 'Your consumer may run only registered operations; send the hash of one (policies/README.md).',
    extensions: [],
    raisedBy: 'gateway',
  },
  OPERATION_RESOLUTION_FAILURE: {
    status: 400,
    scope: 'request',
    message: 'The document has no operation of that name; name one of its operations in operationName.',
    extensions: [],
    raisedBy: 'gateway',
  },
  // Authentication and purpose (gateway).
  /** No credentials, and the policy defines no anonymous consumer. */
  CREDENTIALS_REQUIRED: identity(
    401,
    'Credentials are required: send an API key in X-Api-Key or a token in Authorization: Bearer.',
  ),
  /** Both X-Api-Key and Authorization were sent (or one of them twice): we refuse to guess. */
  AMBIGUOUS_CREDENTIALS: identity(401, 'Send either X-Api-Key or Authorization: Bearer, not both.'),
  /** Unknown, expired, not yet valid or revoked: deliberately not told apart (the log's `detail` does). */
  INVALID_API_KEY: identity(
    401,
    'The API key is not valid. It may be mistyped, expired, not yet valid or revoked; ask the Credence operators for a current key.',
  ),
  /** Malformed, badly signed, for another audience, of a disallowed algorithm, not yet valid. */
  INVALID_TOKEN: identity(401, 'The bearer token is not valid.'),
  TOKEN_EXPIRED: identity(401, 'The bearer token has expired; obtain a new one from its issuer.'),
  /** The token's `iss` is not among the policy's issuers. */
  UNKNOWN_ISSUER: identity(401, 'The bearer token comes from an issuer Credence does not trust.'),
  /** A valid token from a trusted issuer whose `sub` no consumer is registered under. */
  UNKNOWN_SUBJECT: identity(401, 'The bearer token is valid but its subject is not registered as a Credence consumer.'),
  /** The issuer's JWKS could not be fetched (network, timeout, bad answer): not the caller's fault. */
  ISSUER_UNAVAILABLE: identity(503, "The token issuer's signing keys could not be retrieved; try again shortly."),
  /** No X-Credence-Purpose, and the consumer has no default purpose. */
  PURPOSE_REQUIRED: identity(403, 'Declare the purpose of this request in X-Credence-Purpose.'),
  /** The declared (or default) purpose is not one the policy allows this consumer. */
  PURPOSE_NOT_ALLOWED: identity(403, 'The declared purpose is not allowed for this consumer.'),
  /** Execution reached without an identity: a bug, answered as a refusal. */
  UNAUTHENTICATED: {
    status: 401,
    scope: 'request',
    message: 'Not authenticated.',
    extensions: [],
    raisedBy: 'gateway',
  },
  // Gateway assertions (departments).
  ASSERTION_MISSING: identity(401, 'This service only answers requests forwarded by the Credence gateway.'),
  /** Bad format or signature, unknown key id, wrong iss/aud, lifetime over 60 s. */
  ASSERTION_INVALID: identity(401, 'The gateway identity assertion is not valid.'),
  ASSERTION_EXPIRED: identity(401, 'The gateway identity assertion has expired.'),
  /** Issued for a call to another department. */
  ASSERTION_AUDIENCE_MISMATCH: identity(401, 'The gateway identity assertion was issued for another department.'),
  /** Issued for another operation or other variables than those received. */
  ASSERTION_REQUEST_MISMATCH: identity(401, 'The gateway identity assertion was issued for another request.'),
  /** Already used; each is good for one call. */
  ASSERTION_REPLAYED: identity(401, 'The gateway identity assertion was already used.'),
  /** Whether the assertion was already used cannot be checked now (the shared store is unreachable). */
  ASSERTION_CHECK_UNAVAILABLE: identity(
    503,
    'The gateway identity assertion cannot be checked now; try again shortly.',
  ),
  // Policy.
  /** Reject mode: the operation is refused (403) naming the denied fields; filter mode and departments: at the field's path. */
  FORBIDDEN: {
    status: 403,
    scope: 'request',
    message: 'You are not allowed to see this field.',
    extensions: ['deniedFields', 'field', 'purpose'],
    raisedBy: 'both',
  },
  /** A department has not yet received the policy version the gateway decided the request under. */
  POLICY_VERSION_UNAVAILABLE: {
    status: 503,
    scope: 'request',
    message: 'The policy version this request was checked under is not available here yet; retry.',
    extensions: [],
    raisedBy: 'department',
  },
  // Availability: a partial answer, that department's fields null.
  DEPARTMENT_UNAVAILABLE: {
    status: 200,
    scope: 'field',
    message: 'The {department} department is unavailable; its fields are null in this answer.',
    extensions: ['department'],
    raisedBy: 'gateway',
  },
  STORE_UNAVAILABLE: {
    status: 200,
    scope: 'field',
    message: 'The store is unavailable; try again shortly.',
    extensions: [],
    raisedBy: 'department',
  },
  /** The access log cannot be written: no data is released. */
  ACCESS_LOG_UNAVAILABLE: {
    status: 503,
    scope: 'request',
    message: 'The access log cannot be written at the moment, so no data is released. Retry shortly.',
    extensions: [],
    raisedBy: 'gateway',
  },
  /** Anything unexpected; details go to the operator's log only. */
  INTERNAL_SERVER_ERROR: { status: 200, scope: 'field', message: 'Internal error.', extensions: [], raisedBy: 'both' },
  // Departments' answers to bad input and writes.
  /** Bad input, naming the argument or input field at fault. */
  BAD_USER_INPUT: departmentRefusal('The input is not valid.', ['field', 'position']),
  /** A write outside the consumer's competence (authority, kind of record, basis issuer): nothing is written. */
  OUTSIDE_COMPETENCE: departmentRefusal('This record is outside your competence.', ['recordType']),
  RECORD_NOT_FOUND: departmentRefusal('The record is not recorded.', ['number']),
  SUBJECT_NOT_FOUND: departmentRefusal('No such subject is registered.', ['field']),
  NOT_IN_CATALOG: departmentRefusal('This record is not in the national catalog, so it cannot be recorded (R1).', [
    'recordType',
    'catalogItem',
    'listType',
    'category',
  ]),
  BASIS_DOCUMENT_REQUIRED: departmentRefusal('The record must rest on a law-enforcement document (R4).', [
    'field',
    'missing',
  ]),
  DUPLICATE_DECISION_NUMBER: departmentRefusal('This decision number is already recorded with different content.', [
    'number',
  ]),
  ALREADY_REMOVED: departmentRefusal('This entry was already removed.', ['number']),
  REMOVAL_NOT_ALLOWED: departmentRefusal('This entry may not leave its list for this reason.', ['allowedReasons']),
  NOT_RESTORABLE: departmentRefusal('These records are not restored (R6).', ['listType', 'category']),
  NOT_ELIGIBLE: departmentRefusal('This record is not eligible for restoration.'),
  TOO_EARLY: departmentRefusal(
    'Restoration is possible once the minimum publication period has passed, from {eligibleFrom}.',
    ['eligibleFrom'],
  ),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;
/** Every code as a constant (`ErrorCode.FORBIDDEN`): the only way product code names one. */
export const ErrorCode = Object.freeze(Object.fromEntries(Object.keys(ERRORS).map((code) => [code, code]))) as {
  readonly [C in ErrorCode]: C;
};
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The codes of the operation limits (each with `extensions.limit`). */
export const LimitCode = {
  DOCUMENT_TOO_LARGE: ErrorCode.DOCUMENT_TOO_LARGE,
  TOO_MANY_TOKENS: ErrorCode.TOO_MANY_TOKENS,
  QUERY_TOO_DEEP: ErrorCode.QUERY_TOO_DEEP,
  TOO_MANY_ALIASES: ErrorCode.TOO_MANY_ALIASES,
  TOO_MANY_ROOT_FIELDS: ErrorCode.TOO_MANY_ROOT_FIELDS,
  QUERY_TOO_COMPLEX: ErrorCode.QUERY_TOO_COMPLEX,
} as const;
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/** The codes the identity checks raise (authentication, purpose, gateway assertions). */
export type IdentityErrorCode = {
  [C in ErrorCode]: (typeof ERRORS)[C]['raisedBy'] extends 'identity' ? C : never;
}[ErrorCode];
export const IDENTITY_ERROR_CODES = ERROR_CODES.filter(
  (code) => ERRORS[code].raisedBy === 'identity',
) as IdentityErrorCode[];

export type ExtensionName<C extends ErrorCode> = (typeof ERRORS)[C]['extensions'][number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** The registry's message for a code, `{name}` replaced by the extension of that name. */
export function registryMessage(code: ErrorCode, extensions: Readonly<Record<string, unknown>> = {}): string {
  return ERRORS[code].message.replace(/\{(\w+)\}/g, (_, name: string) => String(extensions[name]));
}

export interface CodedErrorOptions {
  /** Where the error stands in the answer. */
  path?: readonly (string | number)[];
  /** The nodes of the document at fault (validation). */
  nodes?: ASTNode | readonly ASTNode[];
  /** An error at a field in an answer, even of a code that otherwise refuses the request: no HTTP status of its own. */
  inAnswer?: boolean;
  /** HTTP headers of the answer (Retry-After, and the RateLimit fields of a 429). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The one error factory: a GraphQLError with the code, the given message or the registry's, only
 * the extensions the registry allows the code (checked by the compiler), and for a refusal of the
 * whole request the HTTP status (Apollo Server honours `extensions.http`).
 */
export function codedError<C extends ErrorCode>(
  code: C,
  message?: string,
  extensions: { readonly [K in ExtensionName<C>]?: unknown } = {},
  options: CodedErrorOptions = {},
): GraphQLError {
  const definition: ErrorDefinition = ERRORS[code];
  const http =
    definition.scope === 'request' && !options.inAnswer
      ? {
          http: {
            status: definition.status,
            ...(options.headers ? { headers: new HeaderMap(Object.entries(options.headers)) } : {}),
          },
        }
      : {};
  return new GraphQLError(message ?? registryMessage(code, extensions), {
    ...(options.path ? { path: options.path } : {}),
    ...(options.nodes ? { nodes: options.nodes } : {}),
    extensions: { code, ...extensions, ...http },
  });
}

/** Validates a USCC argument, throwing `BAD_USER_INPUT` that names the argument (`field`) and the failing position. */
export function assertUscc(code: string, field = 'uscc'): string {
  const fault = checkUscc(code);
  if (fault)
    throw codedError(ErrorCode.BAD_USER_INPUT, `Invalid Unified Social Credit Code in "${field}": ${fault.message}`, {
      field,
      position: fault.position,
    });
  return code;
}

/**
 * The error registry: one factory builds every coded error from the table, with the status of a
 * refusal, the registry's message filled from the extensions, and only declared extensions;
 * identity refusals take their status and message from the same table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  codedError,
  ERROR_CODES,
  ErrorCode,
  ERRORS,
  IDENTITY_ERROR_CODES,
  LimitCode,
  registryMessage,
} from '../lib/error-registry.ts';
import { IdentityError } from '../lib/identity/identity-error.ts';

describe('the error registry', () => {
  it('every code constant is its own name, and every code has a status, a scope and a message', () => {
    for (const code of ERROR_CODES) {
      assert.equal(ErrorCode[code], code);
      const entry = ERRORS[code];
      assert.ok(entry.message.length > 0, code);
      assert.ok(
        entry.scope === 'request' ? entry.status >= 400 : entry.status === 200,
        `${code}: a refusal has an error status, an error at a field HTTP 200`,
      );
    }
    assert.deepEqual(
      Object.values(LimitCode).map((code) => ERRORS[code].extensions),
      Object.values(LimitCode).map(() => ['limit']),
    );
  });

  it('every {placeholder} of a message names an extension the code declares', () => {
    for (const code of ERROR_CODES) {
      const declared: readonly string[] = ERRORS[code].extensions;
      for (const [, name] of ERRORS[code].message.matchAll(/\{(\w+)\}/g))
        assert.ok(declared.includes(name ?? ''), `${code}: {${name}}`);
    }
  });

  it('a refusal of the request carries its HTTP status and headers; the registry message is filled from the extensions', () => {
    const error = codedError(
      ErrorCode.RATE_LIMITED,
      undefined,
      { retryAfterSeconds: 7 },
      { headers: { 'retry-after': '7' } },
    );
    assert.equal(error.message, 'Too many requests; try again in 7 s.');
    assert.equal(error.extensions.code, 'RATE_LIMITED');
    assert.equal(error.extensions.retryAfterSeconds, 7);
    const http = error.extensions.http as { status: number; headers: Map<string, string> };
    assert.equal(http.status, 429);
    assert.equal(http.headers.get('retry-after'), '7');
    assert.equal(
      codedError(ErrorCode.QUERY_TOO_DEEP, undefined, { limit: 15 }).message,
      'The operation is nested deeper than 15 levels.',
    );
  });

  it('an error at a field keeps HTTP 200: field codes, and refusal codes raised at a field', () => {
    assert.equal(codedError(ErrorCode.BAD_USER_INPUT, 'x', { field: 'uscc' }).extensions.http, undefined);
    assert.equal(
      codedError(
        ErrorCode.FORBIDDEN,
        undefined,
        { field: 'Subject.phone' },
        { inAnswer: true, path: ['subject', 'phone'] },
      ).extensions.http,
      undefined,
    );
    assert.deepEqual(codedError(ErrorCode.FORBIDDEN, 'no').extensions.http, { status: 403 });
    assert.deepEqual(codedError(ErrorCode.FORBIDDEN, 'no', {}, { inAnswer: true, path: ['a', 0] }).path, ['a', 0]);
  });

  it("a raiser may word a more specific message, never change the code's status", () => {
    const error = codedError(ErrorCode.BAD_REQUEST, 'The persisted query hash does not match the query sent.');
    assert.equal(error.message, 'The persisted query hash does not match the query sent.');
    assert.deepEqual(error.extensions.http, { status: 400 });
  });

  it('identity refusals take status and message from the registry; their detail never reaches the answer', () => {
    assert.ok(
      IDENTITY_ERROR_CODES.includes(ErrorCode.INVALID_API_KEY) &&
        IDENTITY_ERROR_CODES.includes(ErrorCode.ASSERTION_REPLAYED),
    );
    for (const code of IDENTITY_ERROR_CODES) {
      const error = new IdentityError(code, { detail: 'key k-123 revoked' });
      assert.equal(error.httpStatus, ERRORS[code].status);
      assert.equal(error.message, registryMessage(code));
      const answered = error.toGraphQLError();
      assert.equal(answered.extensions.code, code);
      assert.deepEqual(answered.extensions.http, { status: ERRORS[code].status });
      assert.doesNotMatch(JSON.stringify(answered), /k-123/);
    }
  });
});

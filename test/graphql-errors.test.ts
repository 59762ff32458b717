/** The safe error formatter: coded errors pass, a store that cannot be reached is STORE_UNAVAILABLE, anything else is hidden. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import { safeErrorFormatter } from '../lib/graphql-errors.ts';
import { createLogger } from '../lib/logger.ts';

const format = safeErrorFormatter(createLogger('test'));

function formatted(error: Error): { message: string; code: unknown } {
  const wrapped = new GraphQLError(error.message, { originalError: error, path: ['subject'] });
  const result = format({ message: error.message, path: ['subject'] }, wrapped);
  return { message: result.message, code: result.extensions?.code };
}

function named(name: string, message: string, code?: string): Error {
  const error = new Error(message);
  error.name = name;
  if (code) (error as NodeJS.ErrnoException).code = code;
  return error;
}

describe('safe error formatter', () => {
  it("answers the driver's errors for an unreachable store, and a socket the store closed, as STORE_UNAVAILABLE", () => {
    for (const error of [
      named('MongoServerSelectionError', 'connect ECONNREFUSED 127.0.0.1:27018'),
      named('MongoNetworkError', 'connection 4 to 127.0.0.1:27018 closed'),
      named('MongoClientClosedError', 'Operation interrupted because client was closed'),
      named('Error', 'This socket has been ended by the other party', 'EPIPE'),
    ]) {
      const result = formatted(error);
      assert.equal(result.code, 'STORE_UNAVAILABLE', error.name);
      assert.ok(!result.message.includes('127.0.0.1'), 'no internal address');
    }
  });

  it('hides any other error behind INTERNAL_SERVER_ERROR, and lets coded errors through', () => {
    assert.deepEqual(formatted(new TypeError('cannot read x of undefined at /srv/credence/x.ts:3')), {
      message: 'Internal error.',
      code: 'INTERNAL_SERVER_ERROR',
    });
    const coded = new GraphQLError('Invalid code.', { extensions: { code: 'BAD_USER_INPUT' } });
    assert.equal(
      format({ message: coded.message, extensions: { code: 'BAD_USER_INPUT' } }, coded).extensions?.code,
      'BAD_USER_INPUT',
    );
  });
});

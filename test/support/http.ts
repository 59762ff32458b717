/** Raw HTTP to a gateway or a department, and the shape every refusal must have. */
import assert from 'node:assert/strict';
import type { GraphQLResponse } from './federation.ts';

export interface HttpAnswer extends GraphQLResponse {
  /** The raw body, to check what it must not contain. */
  text: string;
  headers: Headers;
}

/** Sends a request as it is written (any body, method and headers) and reads the answer as JSON. */
export async function send(url: string, init: RequestInit): Promise<HttpAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as GraphQLResponse['body'],
    text,
    headers: response.headers,
  };
}

export function post(
  url: string,
  headers: Record<string, string>,
  query: string | undefined,
  variables?: Record<string, unknown>,
  extensions?: Record<string, unknown>,
): Promise<HttpAnswer> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables, extensions }),
  });
}

/** A refusal: the status, the code of the one error, no data, and nothing internal in the body. */
export function assertRefused(answer: HttpAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, `status (body: ${answer.text})`);
  assert.equal(answer.body.errors?.length, 1, `one error (body: ${answer.text})`);
  assert.equal(answer.body.errors?.[0]?.extensions?.code, code, `code (body: ${answer.text})`);
  assert.equal(answer.body.data ?? null, null, 'no data');
  assert.doesNotMatch(
    answer.text,
    /stacktrace|\bat \w+ \(|node_modules|\.ts:\d+|[Dd]id you mean/,
    'no stack trace, no schema hint',
  );
}

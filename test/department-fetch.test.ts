/**
 * The gateway's HTTP client for department calls, against a local server: what the data source
 * reads of an answer (status, headers, JSON or text), a refusal's body, and a call that takes
 * too long or is cut off failing instead of hanging; a query whose kept-alive connection the
 * department closed as idle sent again once on a new one, and a mutation never.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { departmentFetcher, isQueryBody } from '../gateway/department-fetch.ts';

describe('department calls over HTTP', () => {
  let server: Server;
  let base: string;
  const received: { method?: string; headers: Record<string, unknown>; body: string }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ method: request.method, headers: request.headers, body: Buffer.concat(chunks).toString() });
        if (request.url === '/graphql') {
          response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
          response.end(JSON.stringify({ data: { subject: { name: '某某公司' } } }));
        } else if (request.url === '/refuse') {
          response.writeHead(400, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ errors: [{ message: 'bad date', extensions: { code: 'BAD_USER_INPUT' } }] }));
        } else if (request.url === '/cut') {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
          response.write('{"data":');
          setTimeout(() => response.socket?.destroy(), 20);
        }
        // /slow: never answered
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the method, headers and body, and reads the status, headers and JSON of the answer', async () => {
    const fetcher = departmentFetcher(base, 2000);
    const body = JSON.stringify({ query: '{ subject { name } }' });
    const response = await fetcher(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-credence-assertion': 'a.b.c' },
      body,
    });
    assert.equal(response.status, 200);
    assert.equal(response.ok, true);
    assert.equal(response.headers.get('Content-Type'), 'application/json; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await response.json(), { data: { subject: { name: '某某公司' } } });
    assert.deepEqual(await response.clone().json(), { data: { subject: { name: '某某公司' } } });
    const last = received.at(-1);
    assert.equal(last?.method, 'POST');
    assert.equal(last?.headers['x-credence-assertion'], 'a.b.c');
    assert.equal(last?.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(last?.body, body);
  });

  it("keeps a refusal's body for the data source to read", async () => {
    const response = await departmentFetcher(base, 2000)(`${base}/refuse`, { method: 'POST', headers: {}, body: '{}' });
    assert.equal(response.status, 400);
    assert.equal(response.ok, false);
    assert.match(await response.text(), /BAD_USER_INPUT/);
  });

  it('fails a call that is not answered in time', async () => {
    await assert.rejects(
      departmentFetcher(base, 200)(`${base}/slow`, { method: 'POST', headers: {}, body: '{}' }),
      /no answer within 200 ms/,
    );
  });

  it('fails a call whose answer is cut off', async () => {
    // Node reports the reset as `aborted` or the fetcher as cut off, whichever comes first; never the time limit.
    await assert.rejects(
      departmentFetcher(base, 2000)(`${base}/cut`, { method: 'POST', headers: {}, body: '{}' }),
      /cut off|aborted/,
    );
  });

  it('fails a call to a department that is not listening', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/graphql`;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      departmentFetcher(url, 2000)(url, { method: 'POST', headers: {}, body: '{}' }),
      /ECONNREFUSED/,
    );
  });

  describe('a kept-alive connection the department closed as idle (a balancer closing idle connections)', () => {
    let closing: Server;
    let closingBase: string;
    const calls: string[] = [];
    before(async () => {
      const perSocket = new WeakMap<object, number>();
      // Answers the first call on each connection; a later call on the same connection finds it closed.
      closing = createServer((request, response) => {
        const count = (perSocket.get(request.socket) ?? 0) + 1;
        perSocket.set(request.socket, count);
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (count > 1) {
            request.socket.destroy();
            return;
          }
          calls.push(Buffer.concat(chunks).toString());
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ data: { ok: calls.length } }));
        });
      });
      await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
      closingBase = `http://127.0.0.1:${(closing.address() as AddressInfo).port}`;
    });
    after(async () => {
      closing.closeAllConnections();
      await new Promise((resolve) => closing.close(resolve));
    });
    const post = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

    it('sends a query again, once, on a new connection', async () => {
      calls.length = 0;
      const fetcher = departmentFetcher(closingBase, 2000);
      const query = JSON.stringify({ query: 'query Partner__registry__0{subject{name}}' });
      assert.deepEqual(await (await fetcher(`${closingBase}/graphql`, post(query))).json(), { data: { ok: 1 } });
      assert.deepEqual(await (await fetcher(`${closingBase}/graphql`, post(query))).json(), { data: { ok: 2 } });
      assert.equal(calls.length, 2, 'each call ran once');
    });

    it('never sends a mutation twice: its failure is reported', async () => {
      calls.length = 0;
      const fetcher = departmentFetcher(closingBase, 2000);
      const mutation = JSON.stringify({ query: 'mutation Record__judicial__0{recordEntry{caseNumber}}' });
      await fetcher(`${closingBase}/graphql`, post(mutation));
      await assert.rejects(fetcher(`${closingBase}/graphql`, post(mutation)), { code: 'ECONNRESET' });
      assert.equal(calls.length, 1);
    });

    it('recognises a query only in the forms @apollo/gateway sends', () => {
      assert.equal(isQueryBody('{"query":"query X{a}"}'), true);
      assert.equal(isQueryBody('{"query":"{a}"}'), true);
      assert.equal(isQueryBody('{"query":"mutation X{a}"}'), false);
      assert.equal(isQueryBody('{"variables":{},"query":"query X{a}"}'), false);
      assert.equal(isQueryBody(undefined), false);
    });
  });
});

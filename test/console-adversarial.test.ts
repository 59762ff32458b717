/**
 * The console under attack, over plain HTTP (what a script, not a browser, can send): no session,
 * a forged cookie, cross-site posts, self-approval, approval of a stale proposal, a proposal
 * changed in the shared store after review, a non-officer's key, an idle session. Each asserts
 * its exact refusal (status and code) and that nothing was released. Also the access log API's
 * request-id and outcome filters the console relies on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFederation, type Federation } from './support/federation.ts';
import { startConsoleBeside, type ConsoleBeside } from './support/console.ts';

interface Officer {
  cookie: string;
  csrf: string;
}

describe('console', () => {
  let federation: Federation;
  let consoleApp: ConsoleBeside;
  let base: string;
  let author: Officer;
  let reviewer: Officer;
  let rules: string;

  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });

  async function signIn(consumer: string, url = base): Promise<Officer> {
    const response = await fetch(`${url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ credential: federation.apiKeys.get(consumer)! }).toString(),
    });
    assert.equal(response.status, 303, `${consumer} signs in`);
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${url}/matrix`, { headers: { cookie } })).text();
    return { cookie, csrf: /<meta name="csrf" content="([^"]+)">/.exec(page)![1]! };
  }

  /** Submits rules.yaml with `extra` appended as a proposal of `officer`; returns its id. */
  async function propose(officer: Officer, extra: string): Promise<string> {
    const response = await post(
      '/proposals',
      { csrf: officer.csrf, file: 'rules.yaml', text: `${rules.trimEnd()}\n${extra}`, why: 'adversarial test' },
      { cookie: officer.cookie },
    );
    assert.equal(response.status, 303, await response.text().catch(() => ''));
    return /\/proposals\/(p-[\w-]+)$/.exec(response.headers.get('location')!)![1]!;
  }

  const digestOf = async (officer: Officer, id: string): Promise<string> =>
    /name="digest" value="([0-9a-f]+)"/.exec(
      await (await fetch(`${base}/proposals/${id}`, { headers: { cookie: officer.cookie } })).text(),
    )![1]!;
  const approve = async (officer: Officer, id: string): Promise<Response> =>
    post(
      `/proposals/${id}/approve`,
      { csrf: officer.csrf, reason: 'reviewed', digest: await digestOf(officer, id) },
      { cookie: officer.cookie },
    );
  const releaseInForce = (): number => federation.policies.status().release.number;
  const grant = (field: string): string =>
    [
      `  - id: grant-${field.toLowerCase().replace(/[^a-z]/g, '-')}`,
      '    description: Adversarial test grant.',
      '    consumers: [procurement-centre]',
      '    purposes: [BIDDER_ELIGIBILITY]',
      `    allow: [${field}]`,
      '',
    ].join('\n');

  before(async () => {
    federation = await startFederation({ subjects: 6 });
    consoleApp = await startConsoleBeside(federation);
    base = consoleApp.server.url;
    rules = await readFile(join(federation.policiesDir, 'rules.yaml'), 'utf8');
    author = await signIn('privacy-office');
    reviewer = await signIn('privacy-office-reviewer');
  });

  after(async () => {
    await consoleApp?.close();
    await federation?.close();
  });

  it('no session: pages send to sign-in (SESSION_REQUIRED), posts are refused 401', async () => {
    const page = await fetch(`${base}/matrix`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login?refused=SESSION_REQUIRED');
    assert.equal(page.headers.get('x-console-refusal'), 'SESSION_REQUIRED');
    const posted = await post('/proposals', { file: 'rules.yaml', text: rules, why: 'x' });
    assert.equal(posted.status, 401);
    assert.equal(posted.headers.get('x-console-refusal'), 'SESSION_REQUIRED');
    const log = await fetch(`${base}/log?requestId=x`, { redirect: 'manual' });
    assert.equal(log.status, 303, 'no access log without a session');
  });

  it('a forged cookie: SESSION_UNKNOWN, on pages and posts', async () => {
    const cookie = 'credence_console=' + Buffer.alloc(32, 7).toString('base64url');
    const page = await fetch(`${base}/proposals`, { redirect: 'manual', headers: { cookie } });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('x-console-refusal'), 'SESSION_UNKNOWN');
    const posted = await post('/status/verify', { csrf: author.csrf }, { cookie });
    assert.equal(posted.status, 401);
    assert.equal(posted.headers.get('x-console-refusal'), 'SESSION_UNKNOWN');
  });

  it('the session cookie is HttpOnly and SameSite=Strict, and holds only a random id', async () => {
    const response = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ credential: federation.apiKeys.get('privacy-office')! }).toString(),
    });
    const cookie = response.headers.get('set-cookie')!;
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.ok(!cookie.includes(federation.apiKeys.get('privacy-office')!), 'the key is not in the cookie');
  });

  it('CSRF: a post without the token, with a wrong one, or from another origin is refused CSRF_REJECTED', async () => {
    const extra = grant('Subject.establishedOn');
    const missing = await post(
      '/proposals',
      { file: 'rules.yaml', text: `${rules}\n${extra}`, why: 'csrf' },
      { cookie: author.cookie },
    );
    assert.equal(missing.status, 403);
    assert.equal(missing.headers.get('x-console-refusal'), 'CSRF_REJECTED');
    const wrong = await post(
      '/proposals',
      { csrf: reviewer.csrf, file: 'rules.yaml', text: `${rules}\n${extra}`, why: 'csrf' },
      { cookie: author.cookie },
    );
    assert.equal(wrong.status, 403, "another session's token does not do");
    assert.equal(wrong.headers.get('x-console-refusal'), 'CSRF_REJECTED');
    const crossSite = await post(
      '/proposals',
      { csrf: author.csrf, file: 'rules.yaml', text: `${rules}\n${extra}`, why: 'csrf' },
      { cookie: author.cookie, origin: 'http://evil.example' },
    );
    assert.equal(crossSite.status, 403, 'the right token from another origin');
    assert.equal(crossSite.headers.get('x-console-refusal'), 'CSRF_REJECTED');
    const loginCsrf = await post(
      '/login',
      { credential: federation.apiKeys.get('privacy-office')! },
      { origin: 'http://evil.example' },
    );
    assert.equal(loginCsrf.status, 403, 'signing a victim in from another site');
    assert.equal(loginCsrf.headers.get('x-console-refusal'), 'CSRF_REJECTED');
    const proposals = await (await fetch(`${base}/proposals`, { headers: { cookie: author.cookie } })).text();
    assert.ok(!proposals.includes('data-proposal='), 'no proposal was stored');
  });

  it('a non-officer key is refused NOT_AN_OFFICER, an unknown one INVALID_CREDENTIALS, and neither gets a session', async () => {
    const stranger = await post('/login', { credential: federation.apiKeys.get('central-bank')! });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.headers.get('x-console-refusal'), 'NOT_AN_OFFICER');
    assert.ok(
      !(stranger.headers.get('set-cookie') ?? '').includes('credence_console=') ||
        /credence_console=;/.test(stranger.headers.get('set-cookie') ?? ''),
    );
    const unknown = await post('/login', { credential: 'cred_not-a-key-of-anyone' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.headers.get('x-console-refusal'), 'INVALID_CREDENTIALS');
  });

  it('self-approval: the author is refused SELF_APPROVAL, the refusal is recorded, nothing is released', async () => {
    const before = releaseInForce();
    const id = await propose(author, grant('Subject.registeredCapital'));
    const response = await approve(author, id);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-console-refusal'), 'SELF_APPROVAL');
    const page = await (await fetch(`${base}/proposals/${id}`, { headers: { cookie: author.cookie } })).text();
    assert.match(page, /data-status="open"/);
    assert.match(page, /<tr data-step="refused"><td>refused<\/td><td>privacy-office<\/td>/);
    assert.equal(releaseInForce(), before);
  });

  it('a proposal changed in the shared store after review is refused PROPOSAL_CHANGED', async () => {
    const before = releaseInForce();
    const id = await propose(author, grant('Subject.abnormalOperations'));
    const seen = await digestOf(reviewer, id);
    // The attacker who can write to Redis swaps the files of the reviewed proposal.
    const key = `${process.env.CREDENCE_REDIS_NAMESPACE}:console:proposals`;
    const stored = JSON.parse((await consoleApp.sharedStore.hgetall(key))[id]!) as {
      files: Record<string, string>;
      digest: string;
    };
    stored.files['rules.yaml'] = `${rules.trimEnd()}\n${grant('LegalRepresentative.idNumber')}`;
    await consoleApp.sharedStore.hset(key, id, JSON.stringify(stored));
    const response = await post(
      `/proposals/${id}/approve`,
      { csrf: reviewer.csrf, reason: 'reviewed', digest: seen },
      { cookie: reviewer.cookie },
    );
    assert.equal(response.status, 409);
    assert.equal(response.headers.get('x-console-refusal'), 'PROPOSAL_CHANGED');
    assert.equal(releaseInForce(), before);
  });

  it('approval of a stale proposal: refused STALE_PROPOSAL once another release went into force', async () => {
    const first = await propose(author, grant('Subject.address'));
    const second = await propose(author, grant('Subject.establishedOn'));
    const before = releaseInForce();
    const approved = await approve(reviewer, first);
    assert.equal(approved.status, 303);
    const deadline = Date.now() + 5000;
    while (releaseInForce() === before && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(releaseInForce(), before + 1);
    const stale = await approve(reviewer, second);
    assert.equal(stale.status, 409);
    assert.equal(stale.headers.get('x-console-refusal'), 'STALE_PROPOSAL');
    assert.match(await stale.text(), /data-status="open"/);
    assert.equal(releaseInForce(), before + 1, 'nothing more was released');
  });

  it('an idle session times out: SESSION_EXPIRED', async () => {
    const short = await startConsoleBeside(federation, { sessionIdleMs: 300 });
    try {
      const officer = await signIn('privacy-office', short.server.url);
      await new Promise((resolve) => setTimeout(resolve, 600));
      const page = await fetch(`${short.server.url}/matrix`, {
        redirect: 'manual',
        headers: { cookie: officer.cookie },
      });
      assert.equal(page.status, 303);
      assert.equal(page.headers.get('x-console-refusal'), 'SESSION_EXPIRED');
    } finally {
      await short.close();
    }
  });

  it('access log API: a request id finds exactly its record, and outcome filters', async () => {
    const answered = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get('central-bank')!,
        'x-credence-purpose': 'CREDIT_ASSESSMENT',
      },
      body: JSON.stringify({ query: '{ subjects(first: 2) { uscc name } }' }),
    });
    const requestId = ((await answered.json()) as { extensions: { credence: { requestId: string } } }).extensions
      .credence.requestId;
    const office = { consumer: 'privacy-office', purpose: 'AUDIT' };
    const byId = await federation.query(
      'query($id: ID) { accessLog(filter: { requestId: $id }) { records { requestId consumer outcome } } }',
      { id: requestId },
      office,
    );
    assert.deepEqual((byId.body.data?.accessLog as { records: unknown[] }).records, [
      { requestId, consumer: 'central-bank', outcome: 'ANSWERED' },
    ]);
    const none = await federation.query(
      'query($id: ID) { accessLog(filter: { requestId: $id }) { records { requestId } } }',
      { id: 'no-such-request' },
      office,
    );
    assert.deepEqual((none.body.data?.accessLog as { records: unknown[] }).records, []);
    const refused = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      // A purpose the consumer may not use: refused by policy.
      headers: {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get('central-bank')!,
        'x-credence-purpose': 'ENFORCEMENT',
      },
      body: JSON.stringify({ query: '{ subjects(first: 2) { uscc } }' }),
    });
    const refusedId = ((await refused.json()) as { extensions: { credence: { requestId: string } } }).extensions
      .credence.requestId;
    const rejected = await federation.query(
      '{ accessLog(filter: { outcome: REJECTED }, first: 100) { records { outcome requestId } } }',
      undefined,
      office,
    );
    const rejectedRecords = (rejected.body.data?.accessLog as { records: { outcome: string; requestId: string }[] })
      .records;
    assert.ok(
      rejectedRecords.some((record) => record.requestId === refusedId),
      'the refused request is among the REJECTED',
    );
    assert.ok(rejectedRecords.every((record) => record.outcome === 'REJECTED'));
    const answeredOnly = await federation.query(
      '{ accessLog(filter: { outcome: ANSWERED }, first: 100) { records { outcome requestId } } }',
      undefined,
      office,
    );
    const records = (answeredOnly.body.data?.accessLog as { records: { outcome: string; requestId: string }[] })
      .records;
    assert.ok(records.some((record) => record.requestId === requestId));
    assert.ok(
      !records.some((record) => record.requestId === refusedId),
      'the refused request is not among the ANSWERED',
    );
    assert.ok(records.every((record) => record.outcome === 'ANSWERED'));
  });
});

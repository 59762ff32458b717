/**
 * Hot reload across processes: two gateway processes and the departments share one policy
 * folder and one Redis. A saved change takes effect on both within 2 seconds; an invalid change
 * is refused and the policy in force stays; a request is decided under the version it was
 * checked with, which every answer names.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ASSERTION_ENV, ASSERTION_HEADER } from '../lib/identity/assertion.ts';
import { stopChild } from '../lib/stores/ferretdb.ts';
import { freePort } from '../lib/stores/net.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { addPurposeSeeingEverything, publishPolicyChange } from './support/policy-change.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const PORTAL = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const uscc = seedSubject(0).uscc;
const QUERY = `{ subject(uscc: "${uscc}") { name taxCreditRatings { year rating } } }`;

interface Answer {
  data?: { subject?: { name?: string | null; taxCreditRatings?: unknown[] | null } | null } | null;
  errors?: { extensions?: { code?: string } }[];
  extensions?: { credence?: { policyVersion?: string } };
}

const ALLOW_RATINGS = `
  - id: hot-reload-portal-ratings
    description: Added by the hot-reload test.
    consumers: [public-portal]
    allow: [Subject.taxCreditRatings, TaxCreditRating.*]
`;

const CONFLICTING = `
  - id: hot-reload-conflict
    description: Denies what another rule allows; the policy must refuse it.
    consumers: [public-portal]
    deny: [Subject.name]
`;

describe('policy hot reload across two gateway processes', () => {
  let federation: Federation;
  let initialVersion = '';
  const gateways: { url: string; process: ChildProcess }[] = [];

  async function ask(url: string): Promise<Answer> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': federation.apiKeys.get(PORTAL.consumer) ?? '', 'x-credence-purpose': PORTAL.purpose },
      body: JSON.stringify({ query: QUERY }),
    });
    return (await response.json()) as Answer;
  }

  /** Polls until `done` holds for the answer, returning the milliseconds it took. */
  async function waitFor(url: string, done: (answer: Answer) => boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      // A gateway still starting refuses connections: that is "not yet", not a failure.
      const answer = await ask(url).catch(() => undefined);
      if (answer && done(answer)) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${url} did not reflect the change within ${timeoutMs} ms`);
  }

  before(async () => {
    federation = await startFederation({ subjects: 5 });
    // What the portal is denied under its own purpose exists for it under a second one, so it is
    // answered null with FORBIDDEN (filter mode) rather than failing validation as unknown.
    await addPurposeSeeingEverything(federation.policiesDir, [PORTAL.consumer]);
    await publishPolicyChange(federation);
    initialVersion = federation.policies.current().version;
    const subgraphUrls = [...federation.subgraphs].map(([name, subgraph]) => `${name}=${subgraph.graphqlUrl}`).join(',');
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const child = spawn(process.execPath, ['gateway/main.ts'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          LOG_LEVEL: 'silent',
          GATEWAY_PORT: String(port),
          SUBGRAPH_URLS: subgraphUrls,
          POLICIES_DIR: federation.policiesDir,
          // Each gateway process writes its own chain of the access log.
          MONGODB_URI: federation.mongo.uri,
          [ASSERTION_ENV.PRIVATE_KEY]: federation.assertionKeys.privateKeyPem,
        },
      });
      gateways.push({ url: `http://127.0.0.1:${port}/graphql`, process: child });
    }
    for (const { url } of gateways) {
      await waitFor(url, (answer) => typeof answer.data?.subject?.name === 'string', 30_000);
    }
  });

  after(async () => {
    await Promise.all(gateways.map(({ process }) => stopChild(process)));
    await federation.close();
  });

  it('applies a saved change on both gateways within 2 seconds, and names the new version', async () => {
    const before = await Promise.all(gateways.map(({ url }) => ask(url)));
    for (const answer of before) {
      assert.equal(answer.data?.subject?.taxCreditRatings, null, 'ratings denied before the change');
      assert.equal(answer.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    }
    const oldVersion = before[0]?.extensions?.credence?.policyVersion;
    assert.ok(oldVersion);
    assert.equal(before[1]?.extensions?.credence?.policyVersion, oldVersion);

    await appendFile(join(federation.policiesDir, 'rules.yaml'), ALLOW_RATINGS);
    for (const { url } of gateways) {
      const took = await waitFor(url, (answer) => Array.isArray(answer.data?.subject?.taxCreditRatings), 2000);
      assert.ok(took <= 2000, `took ${took} ms`);
    }
    const after = await Promise.all(gateways.map(({ url }) => ask(url)));
    const newVersion = after[0]?.extensions?.credence?.policyVersion;
    assert.ok(newVersion && newVersion !== oldVersion);
    assert.equal(after[1]?.extensions?.credence?.policyVersion, newVersion);
    assert.equal(federation.policies.current().version, newVersion, 'the departments switched too');
  });

  it('refuses an invalid change: the policy in force stays on every process', async () => {
    const inForce = (await ask(gateways[0]?.url ?? '')).extensions?.credence?.policyVersion;
    const rules = join(federation.policiesDir, 'rules.yaml');
    const valid = await readFile(rules, 'utf8');
    await writeFile(rules, valid + CONFLICTING);
    // Give every process well over the 2 seconds a valid change takes.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (const { url } of gateways) {
      const answer = await ask(url);
      assert.equal(answer.extensions?.credence?.policyVersion, inForce);
      assert.equal(typeof answer.data?.subject?.name, 'string', 'Subject.name still allowed');
    }
    assert.equal(federation.policies.current().version, inForce);
    await writeFile(rules, valid);
  });

  it('decides a department call under the version it was checked with, not the newest', async () => {
    const newest = (await ask(gateways[0]?.url ?? '')).extensions?.credence?.policyVersion ?? '';
    const tax = federation.subgraphs.get('tax');
    assert.ok(tax);
    const call = async (policyVersion: string): Promise<{ status: number; text: string }> => {
      const body = {
        query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Subject { taxCreditRatings { rating } } } }',
        variables: { r: [{ __typename: 'Subject', uscc }] },
      };
      const assertion = federation.signAssertion({ consumer: PORTAL.consumer, purpose: PORTAL.purpose, policyVersion, requestId: 'pinning' }, { audience: 'tax', request: body });
      const response = await fetch(tax.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    };
    const underNewest = await call(newest);
    assert.equal(underNewest.status, 200);
    assert.match(underNewest.text, /"rating"/);
    // The version in force before the first change: still retained, and decided by its own rules.
    assert.notEqual(initialVersion, newest);
    const underInitial = await call(initialVersion);
    assert.doesNotMatch(underInitial.text, /"rating"/);
    assert.match(underInitial.text, /FORBIDDEN/);
  });
});

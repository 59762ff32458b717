/**
 * The explorer in a real browser: Debian's Chromium driven by playwright-core against a whole
 * federation. A browser visit to /graphql lands on the explorer; a developer enters the public
 * portal's key; GraphiQL's introspection shows the portal's own schema (what it may not see is
 * absent) and a query runs as the portal. Every request the page makes stays on the gateway
 * (nothing from a CDN). Screenshots go to test-results/screenshots/ (gitignored; CI keeps them).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { readGatewayConfig } from '../gateway/config.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { startGatewayBeside } from './support/gateway-beside.ts';
import { createLogger } from '../lib/logger.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));

interface IntrospectedType {
  name: string;
  fields: { name: string }[] | null;
}

describe('explorer', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)` }, () => {
  let federation: Federation;
  let browser: Browser;
  let page: Page;
  let uscc: string;
  let name: string;
  const outside: string[] = [];
  const introspections: { __schema: { types: IntrospectedType[] } }[] = [];

  before(async () => {
    federation = await startFederation({ subjects: 3 });
    const listed = await federation.query('{ subjects(first: 1) { uscc name } }');
    const first = (listed.body.data?.subjects as { uscc: string; name: string }[])[0];
    assert.ok(first, JSON.stringify(listed.body));
    ({ uscc, name } = first);
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const origin = new URL(federation.gateway.url).origin;
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    page.on('response', async (response) => {
      if (!response.url().endsWith('/graphql') || response.request().method() !== 'POST') return;
      const body = (await response.json().catch(() => undefined)) as { data?: { __schema?: unknown } } | undefined;
      if (body?.data?.__schema) introspections.push(body.data as { __schema: { types: IntrospectedType[] } });
    });
  });
  after(async () => {
    await browser?.close();
    await federation?.close();
  });

  it('a browser opening /graphql is sent to the explorer, not refused for CSRF', async () => {
    const response = await page.goto(`${federation.gateway.graphqlUrl}`);
    assert.equal(new URL(page.url()).pathname, '/explorer');
    assert.equal(response?.status(), 200);
    assert.match(await page.locator('#status').innerText(), /consumer the key belongs to/);
    await page.screenshot({ path: `${SCREENSHOTS}explorer-start.png` });
  });

  it("shows the consumer's own schema: introspection hides what the portal may not see", async () => {
    await page.fill('#api-key', federation.apiKeys.get('public-portal') ?? '');
    await page.fill('#purpose', 'PUBLIC_DISCLOSURE');
    await page.click('#connect');
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    await page.waitForFunction("document.querySelector('.graphiql-container') !== null");
    await page.locator('button[aria-label="Show Documentation Explorer"]').click();
    await page.getByText('Query', { exact: true }).first().click();
    await page.getByText('subject', { exact: true }).first().waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}explorer-docs-public-portal.png` });

    assert.ok(introspections.length > 0, 'GraphiQL introspected through the gateway');
    const types = new Map(
      introspections.at(-1)?.__schema.types.map((type) => [type.name, (type.fields ?? []).map((field) => field.name)]),
    );
    assert.deepEqual(types.get('LegalRepresentative')?.sort(), ['idNumber', 'name'], 'no phone for the portal');
    assert.ok(types.get('Subject')?.includes('name'));
    assert.ok(!types.get('Subject')?.includes('annualReports'), 'no trade secrets');
    assert.ok(!types.has('AccessRecord'), 'the access log does not exist for the portal');
    assert.ok(!types.get('Query')?.includes('accessLog'));
    // The docs pane shows the catalog notes of the portal's schema.
    await page.getByText('subject', { exact: true }).first().click();
    await page.getByText('Subject', { exact: true }).first().click();
    await page
      .locator('a.graphiql-doc-explorer-field-name', { hasText: /^name$/ })
      .first()
      .click();
    await page
      .getByText(/Catalog item REG-REGISTRATION/)
      .first()
      .waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}explorer-docs-subject.png` });
  });

  it('runs a query as the consumer and shows its answer', async () => {
    const query = `{ subject(uscc: "${uscc}") { uscc name legalRepresentative { idNumber } } }`;
    // The query editor is CodeMirror 5, whose element carries its editor.
    await page.evaluate(
      `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(${JSON.stringify(query)})`,
    );
    await page.locator('button.graphiql-execute-button').click();
    await page.locator('.result-window', { hasText: name }).waitFor();
    const answer = await page.locator('.result-window').innerText();
    assert.match(answer, /\*{4,}/, 'the ID number arrives masked');
    assert.match(answer, /"masked"/, 'the answer lists what was masked');
    await page.screenshot({ path: `${SCREENSHOTS}explorer-query-public-portal.png` });
  });

  it('loads every asset from the gateway itself, nothing from a CDN', () => {
    assert.deepEqual(outside, []);
  });

  it('can be switched off: GATEWAY_EXPLORER=off serves no explorer, and a browser GET of /graphql gets the CSRF refusal', async () => {
    assert.equal(readGatewayConfig({ GATEWAY_EXPLORER: 'off' }).explorer, false);
    assert.equal(readGatewayConfig({}).explorer, true);
    const sharedStore = await connectSharedStore(createLogger('test'));
    const off = await startGatewayBeside(federation, sharedStore, () => ({ explorer: false }));
    try {
      assert.equal((await fetch(`${off.url}/explorer`)).status, 404);
      assert.equal((await fetch(`${off.url}/explorer/assets/graphiql.js`)).status, 404);
      const visit = await fetch(off.graphqlUrl, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(visit.status, 400);
      const on = await fetch(federation.gateway.graphqlUrl, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(on.status, 303);
      assert.equal(on.headers.get('location'), '/explorer');
    } finally {
      await off.close();
      await sharedStore.close();
    }
  });

  it('serves only its fixed assets, under a policy allowing this origin only', async () => {
    const page = await fetch(`${federation.gateway.url}/explorer`);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';.*connect-src 'self'/);
    assert.equal((await fetch(`${federation.gateway.url}/explorer/assets/..%2F..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${federation.gateway.url}/explorer/assets/package.json`)).status, 404);
    // The JSON answers keep their own policy.
    assert.equal(
      (await fetch(`${federation.gateway.url}/healthz`)).headers.get('content-security-policy'),
      "default-src 'none'; frame-ancestors 'none'",
    );
  });
});

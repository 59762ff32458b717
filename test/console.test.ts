/**
 * The privacy office's console end to end, in Debian's Chromium: each acceptance item of the
 * console is one test, run in order on one federation (the release made by one is the release
 * in force for the next). Screenshots of every page go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { startPolicyRuntime } from '../lib/policy/releases/process-policy.ts';
import { releaseKeys } from '../lib/policy/releases/release-store.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { createLogger } from '../lib/logger.ts';
import { startFederation, type Federation } from './support/federation.ts';
import {
  launchChromium,
  newOfficerPage,
  screenshot,
  startConsoleBeside,
  type ConsoleBeside,
} from './support/console.ts';

const ROOT = join(import.meta.dirname, '..');
const PROCUREMENT = { consumer: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY' };

/** One attribute of every element a locator finds, in page order. */
async function attributeOfEach(locator: Locator, name: string): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (let index = 0; index < (await locator.count()); index++)
    values.push(await locator.nth(index).getAttribute(name));
  return values;
}

describe('privacy console in a real browser', () => {
  let federation: Federation;
  let consoleApp: ConsoleBeside;
  let browser: Browser;
  let author: Page;
  let reviewer: Page;
  let subject: string;
  const requestIds: string[] = [];

  before(async () => {
    federation = await startFederation({ subjects: 12 });
    consoleApp = await startConsoleBeside(federation);
    browser = await launchChromium();
    author = (await newOfficerPage(browser)).page;
    reviewer = (await newOfficerPage(browser)).page;
    const listed = await federation.query('{ subjects(first: 3) { uscc } }');
    subject = ((listed.body.data?.subjects ?? []) as { uscc: string }[])[0]!.uscc;
  });

  after(async () => {
    await browser?.close();
    await consoleApp?.close();
    await federation?.close();
  });

  async function signIn(page: Page, consumer: string): Promise<void> {
    await page.goto(`${consoleApp.server.url}/login`);
    await page.fill('#credential', federation.apiKeys.get(consumer)!);
    await page.press('#credential', 'Enter');
    await page.waitForLoadState('load');
  }

  /** A request to the gateway as a consumer; the request id of an answer without errors is kept. */
  async function queryAs(
    caller: { consumer: string; purpose: string },
    query: string,
  ): Promise<{ errors?: { extensions?: { code?: string } }[]; data?: unknown }> {
    const response = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get(caller.consumer)!,
        'x-credence-purpose': caller.purpose,
      },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as {
      errors?: { extensions?: { code?: string } }[];
      data?: unknown;
      extensions?: { credence?: { requestId?: string } };
    };
    if (body.extensions?.credence?.requestId && !body.errors) requestIds.push(body.extensions.credence.requestId);
    return body;
  }

  it('signing in, and being refused as a non-officer', async () => {
    const stranger = (await newOfficerPage(browser)).page;
    await signIn(stranger, 'procurement-centre');
    assert.equal(await stranger.locator('.refusal').getAttribute('data-code'), 'NOT_AN_OFFICER');
    assert.ok(stranger.url().endsWith('/login'));
    await screenshot(stranger, 'login-refused');
    await stranger.context().close();

    await signIn(author, 'privacy-office');
    assert.ok(author.url().endsWith('/matrix'), author.url());
    assert.equal(await author.locator('.officer').getAttribute('data-officer'), 'privacy-office');
    await signIn(reviewer, 'privacy-office-reviewer');
    assert.equal(await reviewer.locator('.officer').getAttribute('data-officer'), 'privacy-office-reviewer');
  });

  it("the matrix showing the shipped policy's decision for three cells, checked against policy explain", async () => {
    const cells = [
      {
        consumer: 'public-portal',
        purpose: 'PUBLIC_DISCLOSURE',
        field: 'LegalRepresentative.idNumber',
        query: `{ subject(uscc: "${subject}") { legalRepresentative { idNumber } } }`,
      },
      {
        consumer: 'procurement-centre',
        purpose: 'BIDDER_ELIGIBILITY',
        field: 'Subject.name',
        query: `{ subject(uscc: "${subject}") { name } }`,
      },
      {
        consumer: 'central-bank',
        purpose: 'CREDIT_ASSESSMENT',
        field: 'LegalRepresentative.phone',
        query: `{ subject(uscc: "${subject}") { legalRepresentative { phone } } }`,
      },
    ];
    const effects = new Set<string>();
    for (const cell of cells) {
      const queryFile = join(federation.policiesDir, '..', `explain-${cell.consumer}.graphql`);
      writeFileSync(queryFile, cell.query);
      const args = [
        'scripts/policy.ts',
        'explain',
        '--dir',
        federation.policiesDir,
        '--consumer',
        cell.consumer,
        '--purpose',
        cell.purpose,
        '--query',
        queryFile,
      ];
      const json = JSON.parse(execFileSync(process.execPath, [...args, '--json'], { cwd: ROOT, encoding: 'utf8' })) as {
        fields: { coordinate: string; effect: string; mask?: string; ruleId: string | null }[];
      };
      const explained = json.fields.find((field) => field.coordinate === cell.field)!;
      const text = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
      const line = text.split('\n').find((row) => row.includes(` ${cell.field} `))!;
      const place = /\(([^()]+:\d+)\)\s*$/.exec(line)?.[1] ?? '';

      await author.goto(`${consoleApp.server.url}/matrix?consumer=${cell.consumer}&field=${cell.field}`);
      const shown = author.locator(
        `td[data-consumer="${cell.consumer}"][data-purpose="${cell.purpose}"][data-field="${cell.field}"]`,
      );
      assert.equal(await shown.getAttribute('data-effect'), explained.effect, cell.field);
      assert.equal(await shown.getAttribute('data-mask'), explained.mask ?? '', cell.field);
      assert.equal(await shown.getAttribute('data-rule'), explained.ruleId ?? '', cell.field);
      assert.equal(await shown.getAttribute('data-place'), place, `${cell.field}: ${line}`);
      effects.add(explained.effect);
    }
    assert.deepEqual([...effects].sort(), ['allow', 'deny', 'mask'], 'the three cells show each kind of decision');
    await author.goto(`${consoleApp.server.url}/matrix`);
    await screenshot(author, 'matrix');
  });

  const ERROR_RULE = [
    '',
    '  - id: bidder-registered-address',
    "    description: Procurement checks the bidder's registered address.",
    '    consumers: [procurement-centre]',
    '    purposes: [BIDDER_ELIGIBILITY]',
    '    allow: [Subject.adress]',
    '',
  ].join('\n');
  let proposalUrl = '';

  it('proposing a change with an error, and seeing it at its line', async () => {
    await author.goto(`${consoleApp.server.url}/proposals/new?file=rules.yaml`);
    const original = await author.inputValue('#policy-text');
    const edited = `${original.trimEnd()}\n${ERROR_RULE}`;
    const errorLine = edited.split('\n').findIndex((line) => line.includes('Subject.adress')) + 1;
    await author.fill('#policy-text', edited);
    // Live: the problem appears at its line while typing.
    const live = author.locator(`#check .problems li[data-line="${errorLine}"]`);
    await live.waitFor();
    assert.match(await live.innerText(), /Subject\.address/, 'the hint names the field meant');
    await live.locator('button.goto').click();
    const caretLine = await author.$eval('#policy-text', (element) => {
      const area = element as unknown as { value: string; selectionStart: number };
      return area.value.slice(0, area.selectionStart).split('\n').length;
    });
    assert.equal(caretLine, errorLine);
    await screenshot(author, 'editor-error');
    // Submitted anyway: refused, with the problem at its line, and no proposal stored.
    await author.fill('#why', "Bidders' addresses are needed for eligibility checks");
    await author.click('#proposal-form button[type="submit"]');
    assert.equal(await author.locator('.refusal').getAttribute('data-code'), 'INVALID_POLICY');
    assert.equal(await author.locator(`.problems li[data-line="${errorLine}"]`).count(), 1);
    await author.goto(`${consoleApp.server.url}/proposals`);
    assert.equal(await author.locator('tr[data-proposal]').count(), 0);
  });

  it('self-approval being refused', async () => {
    await author.goto(`${consoleApp.server.url}/proposals/new?file=rules.yaml`);
    const original = await author.inputValue('#policy-text');
    await author.fill(
      '#policy-text',
      `${original.trimEnd()}\n${ERROR_RULE.replace('Subject.adress', 'Subject.address')}`,
    );
    await author.locator('#check [data-gained="Subject.address"]').waitFor();
    await screenshot(author, 'editor-diff');
    await author.fill('#why', "Bidders' addresses are needed for eligibility checks");
    await author.click('#proposal-form button[type="submit"]');
    await author.waitForURL(/\/proposals\/p-/);
    proposalUrl = author.url();
    assert.equal(await author.locator('[data-status]').getAttribute('data-status'), 'open');
    await author.fill('#approve-reason', 'I checked it myself');
    await author.click('#approve');
    assert.equal(await author.locator('.refusal').getAttribute('data-code'), 'SELF_APPROVAL');
    assert.equal(await author.locator('[data-status]').getAttribute('data-status'), 'open');
    assert.equal(await author.locator('tr[data-step="refused"]').count(), 1);
    await screenshot(author, 'proposal-self-approval-refused');
  });

  let stoppedProcess = '';

  it('fixing it, seeing the access diff, approving it as a second officer, and the gateway answering under the new release within 2 s', async () => {
    // A process that dies before the release (its connection to the shared store gone, so it
    // cannot sign off): its last report stays, on the old release (the status test shows it).
    const log = createLogger('test-stopped');
    const ownStore = await connectSharedStore(log);
    const runtime = await startPolicyRuntime({
      dir: federation.policiesDir,
      sharedStore: ownStore,
      log,
      watch: false,
      trustedKeys: federation.releaseKeys.trusted,
    });
    stoppedProcess = 'registry@127.0.0.1:9';
    runtime.reportAs({ role: 'registry', instance: stoppedProcess });
    const processes = releaseKeys(process.env.CREDENCE_REDIS_NAMESPACE ?? 'credence').processes;
    while (!(stoppedProcess in (await consoleApp.sharedStore.hgetall(processes))))
      await new Promise((resolve) => setTimeout(resolve, 20));
    await ownStore.close();
    await runtime.close();

    const before = await queryAs(PROCUREMENT, `{ subject(uscc: "${subject}") { address } }`);
    assert.ok(before.errors?.[0], 'refused under the release in force');

    await reviewer.goto(proposalUrl);
    assert.equal(await reviewer.locator('[data-author]').getAttribute('data-author'), 'privacy-office');
    assert.equal(
      await reviewer
        .locator('tr[data-diff-view="procurement-centre/BIDDER_ELIGIBILITY"] [data-gained="Subject.address"]')
        .count(),
      1,
    );
    assert.equal(await reviewer.locator('[data-tests-failed]').getAttribute('data-tests-failed'), '0');
    await screenshot(reviewer, 'proposal-review');
    await reviewer.fill('#approve-reason', 'Needed for eligibility; diff reviewed');
    await reviewer.click('#approve');
    const approvedAt = Date.now();
    assert.equal(await reviewer.locator('[data-status]').getAttribute('data-status'), 'approved');
    assert.equal(await reviewer.locator('[data-made-release]').getAttribute('data-made-release'), '2');
    assert.deepEqual(await attributeOfEach(reviewer.locator('tr[data-step]'), 'data-step'), [
      'proposed',
      'refused',
      'approved',
    ]);
    await screenshot(reviewer, 'proposal-approved');

    // Polled until the gateway answers under the new release, for at most 2 s.
    let answer = before;
    while (Date.now() - approvedAt < 2000) {
      answer = await queryAs(PROCUREMENT, `{ subject(uscc: "${subject}") { address } }`);
      if (!answer.errors) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(answer.errors, undefined, 'the gateway answers the new field within 2 s of the approval');
    assert.equal(federation.policies.status().release.number, 2);
  });

  it('a subject access report listing the accesses made in the test', async () => {
    await reviewer.goto(`${consoleApp.server.url}/report?uscc=${subject}`);
    const listed = await attributeOfEach(reviewer.locator('tr[data-request-id]'), 'data-request-id');
    assert.ok(requestIds.length >= 1, 'the test made accesses');
    for (const id of requestIds) assert.ok(listed.includes(id), `access ${id} is in the report`);
    assert.match(
      (await reviewer.locator('[data-consumers]').getAttribute('data-consumers')) ?? '',
      /procurement-centre/,
    );
    await screenshot(reviewer, 'subject-report');
    const csv = await reviewer.evaluate(async (url) => (await fetch(url)).text(), `/report.csv?uscc=${subject}`);
    for (const id of requestIds) assert.ok(csv.includes(id), `access ${id} is in the CSV`);
    await reviewer.goto(`${consoleApp.server.url}/report/print?uscc=${subject}`);
    assert.equal(await reviewer.locator('header.top').count(), 0, 'the printable page has no navigation');
    await screenshot(reviewer, 'subject-report-print');
  });

  it('a search by request id finding one record', async () => {
    const id = requestIds[0]!;
    await author.goto(`${consoleApp.server.url}/log`);
    await author.fill('input[name="requestId"]', id);
    await author.press('input[name="requestId"]', 'Enter');
    await author.waitForLoadState('load');
    assert.deepEqual(await attributeOfEach(author.locator('tr[data-request-id]'), 'data-request-id'), [id]);
    await screenshot(author, 'access-log-search');
  });

  it('a stale or stopped process being shown as such', async () => {
    await author.goto(`${consoleApp.server.url}/status`);
    const row = author.locator(`tr[data-instance="${stoppedProcess}"]`);
    assert.equal(await row.getAttribute('data-state'), 'older release');
    assert.match(await row.locator('td.state').innerText(), /STALE/);
    const gateway = author.locator('tr[data-instance^="gateway@"]');
    assert.equal(await gateway.getAttribute('data-state'), 'ok');
    assert.match(await gateway.innerText(), /sharedStore: ok/, "the gateway's readiness checks are shown");
    assert.match(
      await gateway.innerText(),
      /circuit tax: closed/,
      "each department's circuit, as the gateway's /status says it",
    );
    await author.click('#verify');
    await author.waitForLoadState('load');
    assert.equal(await author.locator('[data-verification]').getAttribute('data-verification'), 'ok');
    await screenshot(author, 'status');
  });

  it('switches to Simplified Chinese and back, keyboard first', async () => {
    await author.goto(`${consoleApp.server.url}/matrix`);
    await author.keyboard.press('Tab');
    assert.equal(await author.locator(':focus').innerText(), 'Skip to content');
    await author.click('a[lang="zh-CN"]');
    assert.equal(await author.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await author.locator('h1').innerText(), '谁能看到什么');
    await screenshot(author, 'matrix-zh-CN');
    await author.click('a[lang="en"]');
    assert.equal(await author.getAttribute('html', 'lang'), 'en');
  });
});

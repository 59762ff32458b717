/**
 * The rows of the README's answers table ("What a partner agency can rely on") that no other test
 * covered end to end over HTTP: a missing purpose, the operation limits with `extensions.limit`,
 * "before any department is asked" observed by counting each department's requests (as
 * n-plus-one.test.ts does), the filter mode's promise that departments are never asked for a
 * denied field, and an unexpected failure answered INTERNAL_SERVER_ERROR "Internal error." with
 * nothing of it in the answer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ERRORS, isErrorCode, type ErrorCode } from '../lib/error-registry.ts';
import { ASSERTION_HEADER } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import type { Gateway } from '../gateway/server.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { startGatewayBeside } from './support/gateway-beside.ts';
import { assertRefused, post, send, type HttpAnswer } from './support/http.ts';
import { headingAnchors } from './support/markdown.ts';
import { addPurposeSeeingEverything, publishPolicyChange, removeConsumerFields } from './support/policy-change.ts';

const SUBJECT = seedSubject(2);

/** The rows of the README's table of answers: situation, answer, tests. */
function readmeAnswerRows(): { situation: string; answer: string }[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| Situation | Answer |');
  assert.ok(start >= 0, 'the README has its table of answers');
  const lines = readme.slice(start).split('\n');
  const table = lines.slice(
    2,
    lines.findIndex((line) => !line.startsWith('|')),
  );
  return table.map((line) => {
    const [situation = '', answer = ''] = line.split(' | ').map((cell) => cell.replace(/^\| /, ''));
    return { situation, answer };
  });
}

/** The codes an answer cell names, each with the HTTP status stated before it in the cell (if any). */
function codesIn(answer: string): { code: string; status: number | undefined }[] {
  const found: { code: string; status: number | undefined }[] = [];
  let status: number | undefined;
  for (const match of answer.matchAll(/HTTP (\d{3})|`([A-Z][A-Z_]+)`/g)) {
    if (match[1]) status = Number(match[1]);
    else if (match[2]) found.push({ code: match[2], status });
  }
  return found;
}

/** The anchors of the rules R1–R8 in docs/domain.md, by rule. */
const RULE_ANCHORS = new Map(
  [...headingAnchors(readFileSync(new URL('../docs/domain.md', import.meta.url), 'utf8'))]
    .filter((anchor) => /^r[1-8]-/.test(anchor))
    .map((anchor) => [anchor.slice(0, 2).toUpperCase(), anchor]),
);

/** A message as docs/errors.md writes it: each rule it cites linked to its definition (test/docs-links.test.ts). */
function withRuleLinks(message: string): string {
  return message.replace(/\bR([1-8])\b/g, (rule) => `[${rule}](domain.md#${RULE_ANCHORS.get(rule) ?? ''})`);
}

/** docs/errors.md's row for a code, as the registry says it. */
function documentedRow(code: ErrorCode): string {
  const entry = ERRORS[code];
  const status = entry.scope === 'request' ? String(entry.status) : '200, at the field';
  const extensions = entry.extensions.length > 0 ? entry.extensions.map((name) => `\`${name}\``).join(', ') : '–';
  return `| \`${code}\` | ${status} | ${entry.raisedBy} | ${extensions} | ${withRuleLinks(entry.message)} |`;
}

describe("the README's answers table against the error registry", () => {
  const rows = readmeAnswerRows();

  it('every code in the table is a registry code', () => {
    const codes = rows.flatMap(({ answer }) => codesIn(answer).map(({ code }) => code));
    assert.ok(codes.length >= 30, `the table names the codes (found ${codes.length})`);
    assert.deepEqual(
      codes.filter((code) => !isErrorCode(code)),
      [],
    );
  });

  it("every HTTP status the table states for a code is the registry's status of that code", () => {
    const stated = rows.flatMap(({ situation, answer }) =>
      codesIn(answer)
        .filter(({ status }) => status !== undefined)
        .map(({ code, status }) => ({ situation, code, status })),
    );
    assert.ok(stated.length >= 20, `statuses are stated (found ${stated.length})`);
    const differing = stated.filter(
      ({ code, status }) => isErrorCode(code) && !(ERRORS[code].scope === 'request' && ERRORS[code].status === status),
    );
    assert.deepEqual(differing, []);
  });

  it('docs/errors.md lists every registry code, row for row as the registry says it', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = doc.split('\n').filter((line) => /^\| `[A-Z_]+` \|/.test(line));
    const expected = (Object.keys(ERRORS) as ErrorCode[]).map(documentedRow);
    assert.deepEqual(documented, expected, 'docs/errors.md is out of date: its rows must be the expected ones');
  });
});
const TAX: { consumer: string; purpose: string } = { consumer: 'tax-bureau', purpose: 'TAX_ADMINISTRATION' };

describe("the README's answers table, end to end", () => {
  let federation: Federation;
  /** Requests each department received, with the operation text the gateway sent it. */
  const received: { department: string; query: string }[] = [];

  before(async () => {
    federation = await startFederation({
      subjects: 5,
      subgraphPlugins: (department) => [
        {
          requestDidStart: async ({ request }) => {
            received.push({ department, query: request.query ?? '' });
          },
        },
      ],
    });
  });
  after(() => federation.close());

  const ask = (
    caller: { consumer: string; purpose?: string },
    query: string,
    url = federation.gateway.graphqlUrl,
  ): Promise<HttpAnswer> =>
    post(
      url,
      {
        'x-api-key': federation.apiKeys.get(caller.consumer) ?? '',
        ...(caller.purpose ? { 'x-credence-purpose': caller.purpose } : {}),
      },
      query,
    );

  /** The departments asked while `send` ran. */
  const departmentsAsked = async (
    send: () => Promise<HttpAnswer>,
  ): Promise<{ answer: HttpAnswer; asked: { department: string; query: string }[] }> => {
    received.length = 0;
    const answer = await send();
    return { answer, asked: [...received] };
  };

  describe('an operation over a limit: HTTP 400, its code, extensions.limit, before any department is asked', () => {
    const overLimits: [string, number, string][] = [
      ['QUERY_TOO_DEEP', 15, `{ __type(name: "Subject") { ${'ofType { '.repeat(15)}name${' }'.repeat(15)} } }`],
      [
        'TOO_MANY_ALIASES',
        30,
        `{ subject(uscc: "${SUBJECT.uscc}") { ${Array.from({ length: 31 }, (_, i) => `a${i}: name`).join(' ')} } }`,
      ],
      ['TOO_MANY_ROOT_FIELDS', 20, `{ ${Array.from({ length: 21 }, (_, i) => `r${i}: __typename`).join(' ')} }`],
      [
        'QUERY_TOO_COMPLEX',
        50_000,
        '{ subjects(first: 10000) { uscc name status address legalRepresentative { name } } }',
      ],
      ['TOO_MANY_TOKENS', 4000, `{ subject(uscc: "${SUBJECT.uscc}") { ${'name '.repeat(4001)}} }`],
      ['DOCUMENT_TOO_LARGE', 32 * 1024, `{ subject(uscc: "${SUBJECT.uscc}") { name } } #${'x'.repeat(33 * 1024)}`],
    ];
    for (const [code, limit, query] of overLimits) {
      it(`${code}: HTTP 400, extensions.limit ${limit}, no department asked`, async () => {
        const { answer, asked } = await departmentsAsked(() => ask(TAX, query));
        assertRefused(answer, 400, code);
        assert.equal(answer.body.errors?.[0]?.extensions?.limit, limit);
        assert.deepEqual(asked, [], 'no department was asked');
      });
    }

    it('VARIABLES_TOO_DEEP: HTTP 400, extensions.limit 32, no department asked', async () => {
      const deep = `${'['.repeat(33)}"x"${']'.repeat(33)}`;
      const { answer, asked } = await departmentsAsked(() =>
        send(federation.gateway.graphqlUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-api-key': federation.apiKeys.get(TAX.consumer) ?? '',
            'x-credence-purpose': TAX.purpose,
          },
          body: `{"query":"query Deep($code: ID!) { subject(uscc: $code) { name } }","variables":{"code":${deep}}}`,
        }),
      );
      assertRefused(answer, 400, 'VARIABLES_TOO_DEEP');
      assert.equal(answer.body.errors?.[0]?.extensions?.limit, 32);
      assert.deepEqual(asked, [], 'no department was asked');
    });

    it('the same operations under their limits are answered, asking the departments (the counting sees them)', async () => {
      const { answer, asked } = await departmentsAsked(() =>
        ask(
          TAX,
          `{ subject(uscc: "${SUBJECT.uscc}") { ${Array.from({ length: 30 }, (_, i) => `a${i}: name`).join(' ')} } }`,
        ),
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.errors, undefined);
      assert.deepEqual(
        asked.map(({ department }) => department),
        ['registry'],
      );
    });
  });

  describe('a field the policy denies', () => {
    // A field the consumer may see under none of its purposes does not exist for it (the row
    // above); a second purpose under which it may see the field makes it a denied one.
    before(async () => {
      await addPurposeSeeingEverything(federation.policiesDir, ['central-bank', 'public-portal']);
      await publishPolicyChange(federation);
    });

    it('reject mode: FORBIDDEN with extensions.deniedFields, no data, no department asked', async () => {
      const { answer, asked } = await departmentsAsked(() =>
        ask(
          { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' },
          `{ subject(uscc: "${SUBJECT.uscc}") { name taxCreditRatings { rating } } }`,
        ),
      );
      assertRefused(answer, 403, 'FORBIDDEN');
      assert.deepEqual(answer.body.errors?.[0]?.extensions?.deniedFields, [
        'Subject.taxCreditRatings',
        'TaxCreditRating.rating',
      ]);
      assert.deepEqual(asked, []);
    });

    it('filter mode: null with FORBIDDEN at its path, and the departments are never asked for it', async () => {
      const { answer, asked } = await departmentsAsked(() =>
        ask(
          { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' },
          `{ subject(uscc: "${SUBJECT.uscc}") { name legalRepresentative { name phone } taxCreditRatings { rating } } }`,
        ),
      );
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.data, {
        subject: {
          name: SUBJECT.name,
          legalRepresentative: { name: SUBJECT.legalRepresentative.name, phone: null },
          taxCreditRatings: null,
        },
      });
      assert.deepEqual(
        answer.body.errors?.map((error) => [error.extensions?.code, error.path?.join('.'), error.extensions?.field]),
        [
          ['FORBIDDEN', 'subject.legalRepresentative.phone', 'LegalRepresentative.phone'],
          ['FORBIDDEN', 'subject.taxCreditRatings', 'Subject.taxCreditRatings'],
        ],
      );
      // Only the registry is asked, and not for the phone; the tax department (tax ratings) not at all.
      assert.deepEqual(
        asked.map(({ department }) => department),
        ['registry'],
      );
      assert.doesNotMatch(asked[0]?.query ?? '', /phone|taxCreditRatings/);
    });
  });

  describe('a missing or not-allowed purpose: HTTP 403, before any department is asked', () => {
    it("PURPOSE_NOT_ALLOWED for a purpose that is not the consumer's", async () => {
      const { answer, asked } = await departmentsAsked(() =>
        ask({ consumer: 'tax-bureau', purpose: 'ENFORCEMENT' }, `{ subject(uscc: "${SUBJECT.uscc}") { name } }`),
      );
      assertRefused(answer, 403, 'PURPOSE_NOT_ALLOWED');
      assert.deepEqual(asked, []);
    });

    it('PURPOSE_REQUIRED for a consumer without a default purpose that declares none', async () => {
      // The shipped consumers all have a default purpose: this one is given none.
      await removeConsumerFields(federation.policiesDir, 'tax-bureau', ['defaultPurpose']);
      await publishPolicyChange(federation);
      const { answer, asked } = await departmentsAsked(() =>
        ask({ consumer: 'tax-bureau' }, `{ subject(uscc: "${SUBJECT.uscc}") { name } }`),
      );
      assertRefused(answer, 403, 'PURPOSE_REQUIRED');
      assert.deepEqual(asked, []);
      const declared = await ask(TAX, `{ subject(uscc: "${SUBJECT.uscc}") { name } }`);
      assert.deepEqual(
        declared.body.data,
        { subject: { name: SUBJECT.name } },
        'answered once the purpose is declared',
      );
    });
  });

  describe('anything unexpected', () => {
    let gateway: Gateway;
    let broken: Server;
    let sharedStore: SharedStore;

    before(async () => {
      // A real proxy in front of the real tax department, answering what a department with a bug
      // would: the department's answer, with one field failed by an error that has no code, a
      // stack trace and an internal path in its message.
      const tax = federation.subgraphs.get('tax');
      assert.ok(tax);
      broken = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          void (async () => {
            const forwarded = await fetch(tax.graphqlUrl, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                [ASSERTION_HEADER]: String(request.headers[ASSERTION_HEADER] ?? ''),
              },
              body: Buffer.concat(chunks),
            });
            const answer = (await forwarded.json()) as { data?: { _entities?: Record<string, unknown>[] } };
            for (const entity of answer.data?._entities ?? []) entity.taxViolations = null;
            const body = JSON.stringify({
              ...answer,
              errors: [
                {
                  message:
                    "TypeError: Cannot read properties of undefined (reading 'amount')\n    at resolve (/srv/credence/subgraphs/tax/resolvers.ts:42:7)",
                  path: ['_entities', 0, 'taxViolations'],
                },
              ],
            });
            response.writeHead(200, { 'content-type': 'application/json' }).end(body);
          })();
        });
      });
      await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
      const address = broken.address();
      assert.ok(address && typeof address === 'object');
      sharedStore = await connectSharedStore(createLogger('test'));
      gateway = await startGatewayBeside(federation, sharedStore, () => ({
        subgraphUrls: { tax: `http://127.0.0.1:${address.port}/graphql` },
      }));
    });
    after(async () => {
      await gateway.close();
      await sharedStore.close();
      await new Promise((resolve) => broken.close(resolve));
    });

    it('INTERNAL_SERVER_ERROR "Internal error." at the failed field, the rest answered, no detail of the failure', async () => {
      const answer = await ask(
        TAX,
        `{ subject(uscc: "${SUBJECT.uscc}") { name taxViolations { caseNumber } } }`,
        gateway.graphqlUrl,
      );
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.data, { subject: { name: SUBJECT.name, taxViolations: null } });
      assert.deepEqual(
        answer.body.errors?.map((error) => ({
          message: error.message,
          code: error.extensions?.code,
          path: error.path,
        })),
        [{ message: 'Internal error.', code: 'INTERNAL_SERVER_ERROR', path: ['subject', 'taxViolations'] }],
      );
      assert.doesNotMatch(answer.text, /TypeError|resolvers\.ts|\/srv\/|amount|stacktrace|127\.0\.0\.1/);
    });
  });
});

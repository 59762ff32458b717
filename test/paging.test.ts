/**
 * Honest paging: Relay connections for subjects (`subjectConnection`) and the access log
 * (`accessRecords`) walk the whole list page by page, say on the last page that no other follows
 * (instead of ending on an empty page), refuse a bad `first` or cursor with a code, and stay under
 * the policy: a consumer that may not list subjects cannot through the connection either, and the
 * deprecated list fields still answer what they did.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFederation, type Caller, type Federation } from './support/federation.ts';

interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const SUBJECTS = 7;
const CENTRAL_BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
const PRIVACY_OFFICE: Caller = { consumer: 'privacy-office', purpose: 'AUDIT' };

describe('honest paging', () => {
  let federation: Federation;

  const subjectPage = async (
    first: number,
    after?: string | null,
    caller = CENTRAL_BANK,
  ): Promise<Connection<{ uscc: string; name: string }>> => {
    const { body } = await federation.query(
      'query Page($first: Int!, $after: String) { subjectConnection(first: $first, after: $after) { edges { cursor node { uscc name } } pageInfo { hasNextPage endCursor } } }',
      { first, after: after ?? null },
      caller,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data?.subjectConnection as Connection<{ uscc: string; name: string }>;
  };

  before(async () => {
    federation = await startFederation({ subjects: SUBJECTS });
  });
  after(async () => {
    await federation?.close();
  });

  it('subjectConnection pages through every subject in code order; the last page says no other follows', async () => {
    const seen: string[] = [];
    const pages: boolean[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await subjectPage(3, after);
      seen.push(...page.edges.map(({ node }) => node.uscc));
      pages.push(page.pageInfo.hasNextPage);
      assert.equal(page.pageInfo.endCursor, page.edges.at(-1)?.cursor ?? null);
      for (const edge of page.edges) assert.ok(edge.cursor.length > 0);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    assert.deepEqual(pages, [true, true, false], 'three pages of 3, 3 and 1, no empty page');
    assert.equal(seen.length, SUBJECTS);
    assert.deepEqual(seen, [...seen].sort(), 'code order');
    assert.equal(new Set(seen).size, SUBJECTS, 'no subject twice');
  });

  it('a page exactly at the end has hasNextPage false (no empty page needed to find the end)', async () => {
    const page = await subjectPage(SUBJECTS);
    assert.equal(page.edges.length, SUBJECTS);
    assert.equal(page.pageInfo.hasNextPage, false);
    const after = await subjectPage(SUBJECTS, page.pageInfo.endCursor);
    assert.deepEqual(after, { edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('the deprecated subjects list still answers the same subjects in the same order', async () => {
    const { body } = await federation.query('{ subjects(first: 100) { uscc } }', undefined, CENTRAL_BANK);
    const listed = (body.data?.subjects as { uscc: string }[]).map(({ uscc }) => uscc);
    const page = await subjectPage(100);
    assert.deepEqual(
      page.edges.map(({ node }) => node.uscc),
      listed,
    );
  });

  it('a bad first or cursor is refused with a code, nothing answered', async () => {
    for (const [first, after] of [
      [0, null],
      [501, null],
      [3, 'not-a-code'],
    ] as const) {
      const { body } = await federation.query(
        'query Page($first: Int!, $after: String) { subjectConnection(first: $first, after: $after) { edges { cursor } } }',
        { first, after },
        CENTRAL_BANK,
      );
      assert.equal(body.data?.subjectConnection ?? null, null);
      assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(body.errors));
    }
  });

  it('the policy still applies: a consumer that may not list subjects cannot through the connection', async () => {
    const { status, body } = await federation.query(
      '{ subjectConnection(first: 5) { edges { node { uscc } } } }',
      undefined,
      { consumer: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY' },
    );
    assert.equal(status, 400);
    assert.equal(body.data ?? null, null);
    assert.doesNotMatch(JSON.stringify(body), /\d{6}[0-9A-Z]{12}/, 'no code of any subject');
  });

  it('the policy still applies inside the nodes: a field the consumer may not see is refused', async () => {
    const { body } = await federation.query(
      '{ subjectConnection(first: 5) { edges { node { uscc annualReports { revenue } } } } }',
      undefined,
      CENTRAL_BANK,
    );
    assert.equal(body.data ?? null, null);
    assert.ok(body.errors?.length);
  });

  it('accessRecords pages through the access log the same way, each record once, newest first', async () => {
    // Give the log some records: the subject pages above, and a few more.
    for (let i = 0; i < 4; i++) await federation.query('{ subjects(first: 1) { uscc } }', undefined, CENTRAL_BANK);
    const seen: { id: string; at: string }[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { body } = await federation.query(
        'query Log($after: String) { accessRecords(first: 4, after: $after, filter: { consumer: "central-bank" }) { edges { cursor node { id at } } pageInfo { hasNextPage endCursor } } }',
        { after },
        PRIVACY_OFFICE,
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const page = body.data?.accessRecords as Connection<{ id: string; at: string }>;
      pages += 1;
      seen.push(...page.edges.map(({ node }) => node));
      assert.equal(page.pageInfo.endCursor, page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      assert.equal(page.edges.length, 4);
      after = page.pageInfo.endCursor;
    }
    assert.ok(seen.length >= 10, `${seen.length} records of the central bank`);
    assert.equal(pages, Math.ceil(seen.length / 4));
    assert.equal(new Set(seen.map(({ id }) => id)).size, seen.length, 'no record twice');
    assert.deepEqual(
      seen.map(({ at }) => at),
      [...seen.map(({ at }) => at)].sort().reverse(),
      'newest first',
    );

    // The deprecated accessLog gives the same records.
    const { body } = await federation.query(
      '{ accessLog(first: 500, filter: { consumer: "central-bank" }) { records { id } hasNextPage } }',
      undefined,
      PRIVACY_OFFICE,
    );
    const old = (body.data?.accessLog as { records: { id: string }[] }).records.map(({ id }) => id);
    assert.deepEqual(
      old.slice(0, seen.length),
      seen.map(({ id }) => id),
    );
  });

  it('only the privacy office reads the access log through the connection', async () => {
    const { body } = await federation.query(
      '{ accessRecords(first: 1) { edges { node { consumer } } } }',
      undefined,
      CENTRAL_BANK,
    );
    assert.equal(body.data ?? null, null);
    assert.match(body.errors?.[0]?.message ?? '', /Cannot query field "accessRecords"/);
  });
});

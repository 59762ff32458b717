/**
 * R4: inclusion in the serious-dishonesty list must rest on an administrative law-enforcement
 * document. A listing without its basis document (number, issuing authority, date) is refused
 * and nothing is written; the basis is visible to the consumers allowed to see the listing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, startFederation, type Federation, type GraphQLResponse } from './support/federation.ts';

const BUREAU = { consumer: 'market-regulation-bureau', purpose: 'RECORD_KEEPING' };
const REGULATOR = { consumer: 'ecology-bureau', purpose: 'RECORD_KEEPING' };
const PROCUREMENT = { consumer: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY' };

const LIST = `mutation List($input: SeriousDishonestyListingInput!) {
  recordSeriousDishonestyListing(input: $input) { id listType listedBy basis { number issuedBy issuedOn } }
}`;

const uscc = seedSubject(5).uscc;
const today = new Date().toISOString().slice(0, 10);

function listing(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uscc,
    id: `SDL-TEST-${process.pid}`,
    listType: 'SERIOUS_ILLEGAL_DISHONESTY',
    reason: '提交虚假材料骗取登记且情节严重',
    basis: { number: '京市监处〔2026〕77号', issuedBy: '北京市市场监督管理局', issuedOn: '2026-09-01' },
    listedOn: today,
    ...overrides,
  };
}

describe('R4: a listing rests on its basis document', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ subjects: 10 });
  });
  after(() => federation.close());

  async function listings(): Promise<{ id: string }[]> {
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { seriousDishonestyListings { id } } }`,
      undefined,
      INSPECTOR,
    );
    return (body.data?.subject as { seriousDishonestyListings: { id: string }[] }).seriousDishonestyListings;
  }

  const code = (response: GraphQLResponse): unknown => response.body.errors?.[0]?.extensions?.code;

  for (const missing of ['number', 'issuedBy', 'issuedOn'] as const) {
    it(`refuses a listing whose basis document has no ${missing} (BASIS_DOCUMENT_REQUIRED), writing nothing`, async () => {
      const before = await listings();
      const basis = { ...(listing().basis as Record<string, string>), [missing]: null };
      const response = await federation.query(LIST, { input: listing({ basis, id: `NO-${missing}` }) }, BUREAU);
      assert.equal(code(response), 'BASIS_DOCUMENT_REQUIRED');
      assert.deepEqual(response.body.errors?.[0]?.extensions?.missing, [missing]);
      assert.deepEqual(await listings(), before);
    });
  }

  it('refuses a listing with no basis document at all', async () => {
    const before = await listings();
    const response = await federation.query(LIST, { input: listing({ basis: null, id: 'NO-BASIS' }) }, BUREAU);
    assert.equal(code(response), 'BASIS_DOCUMENT_REQUIRED');
    assert.deepEqual(await listings(), before);
  });

  it('lists on a complete basis; the basis is visible to a consumer allowed to see listings', async () => {
    const response = await federation.query(LIST, { input: listing() }, BUREAU);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { seriousDishonestyListings { id basis { number issuedBy issuedOn } } } }`,
      undefined,
      PROCUREMENT,
    );
    const seen = (body.data?.subject as { seriousDishonestyListings: { id: string; basis: unknown }[] })
      .seriousDishonestyListings;
    assert.deepEqual(seen.find((entry) => entry.id === listing().id)?.basis, {
      number: '京市监处〔2026〕77号',
      issuedBy: '北京市市场监督管理局',
      issuedOn: '2026-09-01',
    });
  });

  it('refuses a listing number another department recorded, and another listing under a used number', async () => {
    const before = await listings();
    const other = await federation.query(LIST, { input: listing() }, REGULATOR);
    assert.equal(
      code(other),
      'GRAPHQL_VALIDATION_FAILED',
      'a regulator may not list subjects at all: for it the mutation does not exist',
    );
    const changed = await federation.query(LIST, { input: listing({ reason: '另一事由' }) }, BUREAU);
    assert.equal(code(changed), 'DUPLICATE_DECISION_NUMBER');
    const again = await federation.query(LIST, { input: listing() }, BUREAU);
    assert.equal(again.body.errors, undefined, 'the same listing again is accepted and changes nothing');
    assert.deepEqual(await listings(), before);
  });

  it('refuses an invalid code naming the failing position', async () => {
    const response = await federation.query(
      LIST,
      { input: listing({ uscc: '9111000060003734', id: 'BAD-CODE' }) },
      BUREAU,
    );
    assert.equal(code(response), 'BAD_USER_INPUT');
    assert.equal(response.body.errors?.[0]?.extensions?.position, 0);
  });
});

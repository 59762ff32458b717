/**
 * Disclosure windows come from the national catalog (issue 4, item 3): each record type's
 * catalog item sets its window, enforcement reads it once, and a record leaves public display
 * when its window closes, at query time, with no job to run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApolloServer } from '@apollo/server';
import { disclosureWindowsByRecordType, loadCatalog } from '../lib/policy/reference/catalog.ts';
import { DEFAULT_DISCLOSURE_WINDOWS, type DisclosureWindows } from '../lib/policy/decision/records.ts';
import { connectDatabase, departmentDatabaseName } from '../lib/stores/mongo.ts';
import { penalties } from '../subgraphs/penalties/index.ts';
import {
  departmentStages,
  enforceOnSchema,
  policyPlugin,
  type PolicyContext,
} from '../subgraphs/runtime/enforcement.ts';
import { departmentSchema } from '../subgraphs/runtime/server.ts';
import { seedSubjects } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { penaltyKey } from '../subgraphs/penalties/models.ts';

const DAY = 86_400_000;
const QUERY =
  'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Subject { administrativePenalties { decisionNumber } } } }';

describe('disclosure windows from the catalog', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ subjects: 120 });
  });
  after(() => federation.close());

  it('ships the windows of docs/domain.md: MINOR not published, GENERAL a year, SERIOUS three years', () => {
    assert.deepEqual(
      disclosureWindowsByRecordType(loadCatalog()).get('AdministrativePenalty')?.bySeverity,
      DEFAULT_DISCLOSURE_WINDOWS.bySeverity,
    );
  });

  it("closes a window as the catalog sets it, on the day it ends by the request's clock: a shorter window hides a GENERAL penalty the shipped one shows", async () => {
    // A current GENERAL penalty decided 30 to 300 days ago: inside the shipped one-year window.
    // Found in the store itself (the seed is dated from today), not through the gateway.
    const now = Date.now();
    const connection = await connectDatabase(federation.mongo.uri, departmentDatabaseName(penalties.name));
    try {
      const models = penalties.defineModels(connection);
      const seeded = new Set(seedSubjects(120).map(({ uscc }) => uscc));
      const found = (await models.Penalty.find({ severity: 'GENERAL', restoredOn: null }).lean()).find(
        (p) => seeded.has(p.uscc) && now - p.decidedOn.getTime() > 30 * DAY && now - p.decidedOn.getTime() < 300 * DAY,
      );
      assert.ok(found, 'the seed has a recent GENERAL penalty');
      const target = { uscc: found.uscc, decisionNumber: found.decisionNumber };
      const view = federation.policies.current().view('public-portal', 'PUBLIC_DISCLOSURE');
      assert.ok(view);
      const shown = async (
        windows?: ReadonlyMap<string, DisclosureWindows>,
        uscc = target.uscc,
        at = new Date(),
      ): Promise<string[]> => {
        const base = departmentSchema(penalties);
        const stages = departmentStages(base, windows ? { windows } : {});
        const schema = enforceOnSchema(base, stages);
        const server = new ApolloServer<PolicyContext & { models: unknown; loaders: unknown }>({
          schema,
          plugins: [policyPlugin(schema, stages)],
        });
        await server.start();
        try {
          const response = await server.executeOperation(
            { query: QUERY, variables: { r: [{ __typename: 'Subject', uscc }] } },
            {
              contextValue: { models, loaders: penalties.createLoaders(models), view, policyVersion: 'test', now: at },
            },
          );
          assert.equal(response.body.kind, 'single');
          const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
          assert.equal(result?.errors, undefined, JSON.stringify(result?.errors));
          const entities = result?.data?._entities as { administrativePenalties: { decisionNumber: string }[] }[];
          return entities[0]?.administrativePenalties.map((p) => p.decisionNumber) ?? [];
        } finally {
          await server.stop();
        }
      };
      assert.ok((await shown()).includes(target.decisionNumber), 'inside the shipped window');
      const tenDays = new Map([
        ['AdministrativePenalty', { bySeverity: { MINOR: 0, GENERAL: 10, SERIOUS: 10 }, default: 10 }],
      ]);
      assert.ok(!(await shown(tenDays)).includes(target.decisionNumber), 'outside a ten-day window');

      // The department's clock is the request's: at dates written here, a GENERAL penalty decided
      // 2025-03-01 is displayed through 2026-02-28 and gone on 2026-03-01 (365 days).
      const uscc = '91110000600037341L';
      await models.Penalty.collection.insertOne({
        _id: penaltyKey('北京市生态环境局', '京环罚〔2025〕0301号') as never,
        decisionNumber: '京环罚〔2025〕0301号',
        uscc,
        authority: '北京市生态环境局',
        legalBasis: '《中华人民共和国大气污染防治法》第九十九条',
        violation: '超标排放大气污染物',
        category: 'POLLUTION',
        penaltyType: 'FINE',
        fineAmount: 100000,
        severity: 'GENERAL',
        decidedOn: new Date('2025-03-01T00:00:00Z'),
        restoredOn: null,
      });
      const on = (day: string): Promise<string[]> => shown(undefined, uscc, new Date(`${day}T00:00:00Z`));
      assert.deepEqual(await on('2026-02-28'), ['京环罚〔2025〕0301号'], 'the day before the window ends');
      assert.deepEqual(await on('2026-03-01'), [], 'the day the window ends');
      assert.deepEqual(await on('2026-03-02'), [], 'the day after');
    } finally {
      await connection.close();
    }
  });
});

/**
 * Disclosure windows come from the national catalog (issue 4, item 3): each record type's
 * catalog item sets its window, enforcement reads it once, and a record leaves public display
 * when its window closes, at query time, with no job to run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApolloServer } from '@apollo/server';
import { disclosureWindowsByRecordType, loadCatalog } from '../lib/policy/catalog.ts';
import { DEFAULT_DISCLOSURE_WINDOWS, type DisclosureWindows } from '../lib/policy/records.ts';
import { connectDatabase, departmentDatabaseName } from '../lib/stores/mongo.ts';
import { penalties } from '../subgraphs/penalties/index.ts';
import { enforceOnSchema, policyPlugin, type PolicyContext } from '../subgraphs/runtime/enforcement.ts';
import { departmentSchema } from '../subgraphs/runtime/server.ts';
import { seedSubjects } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, startFederation, type Federation } from './support/federation.ts';

const DAY = 86_400_000;
const QUERY = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Subject { administrativePenalties { decisionNumber } } } }';

describe('disclosure windows from the catalog', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ subjects: 120 });
  });
  after(() => federation.close());

  it('ships the windows of DOMAIN.md: MINOR not published, GENERAL a year, SERIOUS three years', () => {
    assert.deepEqual(disclosureWindowsByRecordType(loadCatalog()).get('AdministrativePenalty')?.bySeverity, DEFAULT_DISCLOSURE_WINDOWS.bySeverity);
  });

  it('closes a window as the catalog sets it: a shorter window hides a GENERAL penalty the shipped one shows', async () => {
    // A current GENERAL penalty decided 30 to 300 days ago: inside the shipped one-year window.
    const now = Date.now();
    let target: { uscc: string; decisionNumber: string } | undefined;
    for (const { uscc } of seedSubjects(120)) {
      const { body } = await federation.query(`{ subject(uscc: "${uscc}") { administrativePenalties { decisionNumber severity decidedOn restoredOn } } }`, undefined, INSPECTOR);
      const list = (body.data?.subject as { administrativePenalties: { decisionNumber: string; severity: string; decidedOn: string; restoredOn: string | null }[] }).administrativePenalties;
      const found = list.find((p) => p.severity === 'GENERAL' && !p.restoredOn && now - Date.parse(p.decidedOn) > 30 * DAY && now - Date.parse(p.decidedOn) < 300 * DAY);
      if (found) {
        target = { uscc, decisionNumber: found.decisionNumber };
        break;
      }
    }
    assert.ok(target, 'the seed has a recent GENERAL penalty');

    const connection = await connectDatabase(federation.mongo.uri, departmentDatabaseName(penalties.name));
    try {
      const models = penalties.defineModels(connection);
      const view = federation.policies.current().view('public-portal', 'PUBLIC_DISCLOSURE');
      assert.ok(view);
      const shown = async (windows?: ReadonlyMap<string, DisclosureWindows>): Promise<string[]> => {
        const schema = enforceOnSchema(departmentSchema(penalties), windows);
        const server = new ApolloServer<PolicyContext & { models: unknown; loaders: unknown }>({ schema, plugins: [policyPlugin(schema)] });
        await server.start();
        try {
          const response = await server.executeOperation(
            { query: QUERY, variables: { r: [{ __typename: 'Subject', uscc: target?.uscc }] } },
            { contextValue: { models, loaders: penalties.createLoaders(models), view, policyVersion: 'test', now: new Date() } },
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
      const tenDays = new Map([['AdministrativePenalty', { bySeverity: { MINOR: 0, GENERAL: 10, SERIOUS: 10 }, default: 10 }]]);
      assert.ok(!(await shown(tenDays)).includes(target.decisionNumber), 'outside a ten-day window');
    } finally {
      await connection.close();
    }
  });
});

/**
 * N+1 is gone: listing 100 subjects with their records from all five departments costs each
 * department one request from the gateway and, on MongoDB, at most one database command per
 * collection (`$in` over every subject, served by the index).
 *
 * On FerretDB, which evaluates `$in` by reading the whole collection, each subject is asked once
 * by equality, which its index serves (test/store-plans.test.ts): one command per distinct key
 * and collection, never one per resolver call, and never a key asked twice.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { mongo } from 'mongoose';
import { isFerretdb, STORE_QUERY_TIME_LIMIT_MS } from '../lib/stores/mongo.ts';
import { startFederation, type Federation } from './support/federation.ts';

const LIST_QUERY = `{
  subjects(first: 100) {
    uscc name status legalRepresentative { name idNumber phone }
    annualReports { year revenue }
    abnormalOperations { id reason }
    dishonestDebtorEntries { caseNumber court basis { number } }
    consumptionRestrictions { caseNumber }
    taxViolations { caseNumber amountInvolved }
    taxCreditRatings { year rating }
    taxPayments { year amount }
    administrativePenalties { decisionNumber severity }
    seriousDishonestyListings { id listType }
    restorationApplications { id status }
  }
}`;

/** Commands that read or write data (not the driver's own handshakes and pings). */
const DATA_COMMANDS = new Set([
  'find',
  'aggregate',
  'count',
  'distinct',
  'insert',
  'update',
  'delete',
  'findAndModify',
  'getMore',
]);

let federation: Federation;
const requests = new Map<string, number>();

before(async () => {
  federation = await startFederation({
    subjects: 120,
    subgraphPlugins: (department) => [
      {
        requestDidStart: async () => {
          requests.set(department, (requests.get(department) ?? 0) + 1);
        },
      },
    ],
  });
});
after(() => federation.close());

it('lists 100 subjects with records from all five departments using one command per collection per subgraph request', async () => {
  const commands = new Map<string, Map<string, number>>();
  /** Per department and collection, the filter of every find, as JSON. */
  const filters = new Map<string, Map<string, string[]>>();
  /** The time limit of every find: each department bounds its own reads. */
  const timeLimits = new Set<number>();
  const ferretdb = await isFerretdb([...federation.subgraphs.values()][0]!.connection);
  const listeners = [...federation.subgraphs].map(([name, subgraph]) => {
    const perCollection = new Map<string, number>();
    const filtersPerCollection = new Map<string, string[]>();
    commands.set(name, perCollection);
    filters.set(name, filtersPerCollection);
    const listener = (event: mongo.CommandStartedEvent): void => {
      if (!DATA_COMMANDS.has(event.commandName)) return;
      const command = event.command as Record<string, unknown>;
      // A getMore names its collection apart; it counts against that collection like any other command.
      const collection = String(event.commandName === 'getMore' ? command.collection : command[event.commandName]);
      perCollection.set(collection, (perCollection.get(collection) ?? 0) + 1);
      if (event.commandName === 'find') {
        filtersPerCollection.set(collection, [
          ...(filtersPerCollection.get(collection) ?? []),
          JSON.stringify(command.filter),
        ]);
        timeLimits.add(Number(command.maxTimeMS));
      }
    };
    subgraph.connection.getClient().on('commandStarted', listener);
    return () => subgraph.connection.getClient().off('commandStarted', listener);
  });
  requests.clear();

  const { body } = await federation.query(LIST_QUERY);
  listeners.forEach((stop) => stop());

  assert.equal(body.errors, undefined);
  assert.deepEqual([...timeLimits], [STORE_QUERY_TIME_LIMIT_MS], "every read carries the store's time limit");
  const subjects = body.data?.subjects as Record<string, unknown[]>[];
  assert.equal(subjects.length, 100);
  // The data is real: some subjects have records in each department.
  for (const field of [
    'annualReports',
    'dishonestDebtorEntries',
    'taxViolations',
    'administrativePenalties',
    'seriousDishonestyListings',
  ]) {
    assert.ok(
      subjects.some((subject) => (subject[field]?.length ?? 0) > 0),
      `some subject has ${field}`,
    );
  }

  const expectedCollections: Record<string, string[]> = {
    registry: ['subjects', 'annual_reports', 'abnormal_operations'],
    judicial: ['debtor_entries', 'consumption_restrictions'],
    tax: ['violation_cases', 'credit_ratings', 'tax_payments'],
    penalties: ['penalties'],
    credit: ['listings', 'restoration_applications'],
  };
  for (const [department, collections] of Object.entries(expectedCollections)) {
    const subgraphRequests = requests.get(department) ?? 0;
    assert.equal(subgraphRequests, 1, `${department} receives one request from the gateway`);
    const counted = commands.get(department) ?? new Map<string, number>();
    assert.deepEqual(
      [...counted.keys()].sort(),
      [...collections].sort(),
      `${department} reads exactly its collections`,
    );
    for (const [collection, count] of counted) {
      if (!ferretdb) {
        assert.ok(
          count <= subgraphRequests,
          `${department}.${collection}: ${count} commands for ${subgraphRequests} request(s)`,
        );
        continue;
      }
      const asked = filters.get(department)?.get(collection) ?? [];
      assert.equal(asked.length, count, `${department}.${collection}: only finds`);
      assert.equal(new Set(asked).size, asked.length, `${department}.${collection}: no key asked twice`);
      assert.ok(
        asked.every((filter) => !filter.includes('$in')),
        `${department}.${collection}: equality only, which FerretDB pushes down`,
      );
      assert.ok(count <= 100, `${department}.${collection}: at most one command per subject listed (${count})`);
    }
  }
});

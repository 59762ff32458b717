/**
 * `npm run load`: a bounded load on loopback, to show that the gateway serves a steady stream of
 * partner traffic with no unexpected error and that its memory does not grow from run to run.
 *
 * One federation (store, five departments and the gateway, in this process, on port 0), then
 * `--runs` runs of `--duration` seconds each at a fixed `--rate` of requests per second over
 * `--connections` connections (autocannon): partner queries by POST and by GET as the central
 * bank, and penalty decisions (each a new decision number) by a regulator. Every answer's body is
 * read: any non-200 status or GraphQL error counts as unexpected. After each run, memory is read
 * after a full garbage collection (RSS and V8 heap of this process, which holds the whole
 * federation). Rate limits are counted in Redis as in production but set high enough never to
 * refuse this load.
 *
 *   npm run load -- [--duration 60] [--rate 25] [--connections 10] [--runs 2] [--subjects 200]
 *
 * Exits 1 if any answer was unexpected. Bounded in time (runs × duration) and in rate.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import autocannon from 'autocannon';
import { seedSubject } from '../../subgraphs/runtime/seed-subjects.ts';
import { NO_LIMITS, startFederation } from '../support/federation.ts';

const { values: cli } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    rate: { type: 'string', default: '25' },
    connections: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    subjects: { type: 'string', default: '200' },
  },
  strict: true,
});
const settings = {
  duration: Number(cli.duration),
  rate: Number(cli.rate),
  connections: Number(cli.connections),
  runs: Number(cli.runs),
  subjects: Number(cli.subjects),
};

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

const federation = await startFederation({
  subjects: settings.subjects,
  gatewayLimits: { requestsPerMinute: NO_LIMITS.requestsPerMinute, requestsPerDay: NO_LIMITS.requestsPerDay },
});
const key = (consumer: string): string => federation.apiKeys.get(consumer) ?? '';
const bankIdentity = { 'x-api-key': key('central-bank'), 'x-credence-purpose': 'CREDIT_ASSESSMENT' };
const bank = { 'content-type': 'application/json', ...bankIdentity };
const regulator = {
  'content-type': 'application/json',
  'x-api-key': key('ecology-bureau'),
  'x-credence-purpose': 'RECORD_KEEPING',
};
const partnerQuery = (uscc: string): string => `{ subject(uscc: "${uscc}") { name status legalRepresentative { name }
  dishonestDebtorEntries { caseNumber } taxViolations { caseNumber } administrativePenalties { decisionNumber severity }
  seriousDishonestyListings { listType } } }`;
const RECORD =
  'mutation Record($input: AdministrativePenaltyInput!) { recordAdministrativePenalty(input: $input) { decisionNumber } }';

let sequence = 0;
const subjectCode = (): string => seedSubject(sequence++ % settings.subjects).uscc;

interface RunResult {
  requests: number;
  unexpected: number;
  firstUnexpected?: string;
  p50: number;
  p99: number;
  rssMb: string;
  heapMb: string;
}

async function run(index: number): Promise<RunResult> {
  let unexpected = 0;
  let firstUnexpected: string | undefined;
  const check = (status: number, body: string): void => {
    const failed = status !== 200 || body.includes('"errors"');
    if (failed) {
      unexpected += 1;
      firstUnexpected ??= `HTTP ${status}: ${body.slice(0, 300)}`;
    }
  };
  const result = await autocannon({
    url: federation.gateway.graphqlUrl,
    connections: settings.connections,
    duration: settings.duration,
    overallRate: settings.rate,
    requests: [
      {
        method: 'POST',
        headers: bank,
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ query: partnerQuery(subjectCode()) }) }),
        onResponse: check,
      },
      {
        method: 'GET',
        headers: bankIdentity,
        setupRequest: (request) => ({
          ...request,
          path: `/graphql?query=${encodeURIComponent(partnerQuery(subjectCode()))}`,
        }),
        onResponse: check,
      },
      {
        method: 'POST',
        headers: regulator,
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            query: RECORD,
            variables: {
              input: {
                uscc: subjectCode(),
                decisionNumber: `LOAD-${process.pid}-${index}-${sequence}`,
                authority: '北京市生态环境局',
                legalBasis: '《中华人民共和国大气污染防治法》第九十九条',
                violation: '超标排放大气污染物',
                category: 'POLLUTION',
                penaltyType: 'FINE',
                fineAmount: 1000,
                severity: 'GENERAL',
                decidedOn: '2026-10-15',
              },
            },
          }),
        }),
        onResponse: check,
      },
    ],
  });
  collectGarbage();
  const memory = process.memoryUsage();
  return {
    requests: result.requests.total,
    unexpected: unexpected + result.errors + result.timeouts,
    ...(firstUnexpected ? { firstUnexpected } : {}),
    p50: result.latency.p50,
    p99: result.latency.p99,
    rssMb: megabytes(memory.rss),
    heapMb: megabytes(memory.heapUsed),
  };
}

let failed = false;
try {
  collectGarbage();
  const start = process.memoryUsage();
  console.log(
    `load: ${settings.runs} run(s) of ${settings.duration} s at ${settings.rate} requests/s over ${settings.connections} connections, ${settings.subjects} subjects`,
  );
  console.log(`before: rss ${megabytes(start.rss)} MB, heap ${megabytes(start.heapUsed)} MB`);
  for (let index = 1; index <= settings.runs; index += 1) {
    const result = await run(index);
    failed ||= result.unexpected > 0;
    console.log(
      `run ${index}: ${result.requests} requests, ${result.unexpected} unexpected, p50 ${result.p50} ms, p99 ${result.p99} ms; ` +
        `after GC: rss ${result.rssMb} MB, heap ${result.heapMb} MB${result.firstUnexpected ? `\n  first unexpected: ${result.firstUnexpected}` : ''}`,
    );
  }
} finally {
  await federation.close();
}
process.exitCode = failed ? 1 : 0;

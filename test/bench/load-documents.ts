/**
 * `npm run load:documents`: memory under a stream of distinct, maximum-size documents. Every
 * per-document cache of the gateway (policy decisions, executed documents) and of the departments
 * (operation verdicts) is bounded by an estimate of its bytes, not only by a count of entries; this
 * shows the bound holds: RSS stays under a stated ceiling however many distinct documents arrive.
 *
 * One federation in this process (store, departments, gateway on port 0). `--documents` distinct
 * documents (default 5,000), each as large as the central bank's limits allow (32 KB, under 4,000
 * tokens: twenty aliased subjects, each selecting its records several times, padded by a comment
 * that makes every document distinct), sent `--concurrency` at a time. RSS is sampled during the
 * run and read after a full garbage collection at the end. Not a timed test: it prints figures and
 * exits 1 only if an answer is unexpected or the peak RSS passes `--max-rss-mb` (default 1,024).
 *
 *   npm run load:documents -- [--documents 5000] [--concurrency 4] [--max-rss-mb 1024]
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_CONSUMER_LIMITS } from '../../gateway/config.ts';
import { seedSubject } from '../../subgraphs/runtime/seed-subjects.ts';
import { NO_LIMITS, startFederation } from '../support/federation.ts';

const { values: cli } = parseArgs({
  options: {
    documents: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '4' },
    'max-rss-mb': { type: 'string', default: '1024' },
  },
  strict: true,
});
const documents = Number(cli.documents);
const concurrency = Number(cli.concurrency);
const maxRssMb = Number(cli['max-rss-mb']);

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const megabytes = (bytes: number): number => Math.round(bytes / 1024 / 1024);

// A valid code of no subject: the departments' work stays small, the gateway's per-document work whole.
const uscc = seedSubject(1_000_000).uscc;
const SELECTION =
  'name status legalRepresentative { name } dishonestDebtorEntries { caseNumber } taxViolations { caseNumber } ' +
  'administrativePenalties { decisionNumber severity } seriousDishonestyListings { listType }';
const BODY = Array.from(
  { length: 20 },
  (_, alias) => `s${alias}: subject(uscc: "${uscc}") { ${Array(6).fill(SELECTION).join(' ')} }`,
).join(' ');

/** Document `n`: the same operation, padded with a comment to the byte limit, so every document is distinct and maximal. */
function documentNumber(n: number): string {
  const head = `query Load${n} { ${BODY} }\n# document ${n} `;
  return head + 'x'.repeat(DEFAULT_CONSUMER_LIMITS.documentBytes - Buffer.byteLength(head));
}

const federation = await startFederation({
  subjects: 10,
  gatewayLimits: { requestsPerMinute: NO_LIMITS.requestsPerMinute, requestsPerDay: NO_LIMITS.requestsPerDay },
});
const headers = {
  'content-type': 'application/json',
  'x-api-key': federation.apiKeys.get('central-bank') ?? '',
  'x-credence-purpose': 'CREDIT_ASSESSMENT',
};
let unexpected = 0;
let peakRss = 0;
const sampler = setInterval(() => void (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);

async function send(n: number): Promise<void> {
  const response = await fetch(federation.gateway.graphqlUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: documentNumber(n) }),
  });
  const body = (await response.json()) as { errors?: unknown[]; data?: Record<string, unknown> };
  if (response.status !== 200 || body.errors || body.data?.s0 !== null) {
    unexpected += 1;
    if (unexpected <= 3) console.error(`document ${n}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

try {
  await send(documents);
  collectGarbage();
  const before = process.memoryUsage();
  const size = Buffer.byteLength(documentNumber(0));
  console.log(
    `sending ${documents} distinct documents of ${size} bytes, ${concurrency} at a time; RSS after warm-up and GC: ${megabytes(before.rss)} MB, heap ${megabytes(before.heapUsed)} MB`,
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < documents) {
        const n = next++;
        await send(n);
        if ((n + 1) % 1000 === 0) console.log(`  ${n + 1} sent: RSS ${megabytes(process.memoryUsage.rss())} MB`);
      }
    }),
  );
  clearInterval(sampler);
  collectGarbage();
  const after = process.memoryUsage();
  console.log(
    `done: ${unexpected} unexpected answers; peak RSS ${megabytes(peakRss)} MB (bound ${maxRssMb} MB); after GC RSS ${megabytes(after.rss)} MB, heap ${megabytes(after.heapUsed)} of ${megabytes(after.heapTotal)} MB, external ${megabytes(after.external)} MB`,
  );
  if (unexpected > 0 || megabytes(peakRss) > maxRssMb) process.exitCode = 1;
} finally {
  clearInterval(sampler);
  await federation.close();
}

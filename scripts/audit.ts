/**
 * `npm run audit -- <command>`: the access log's maintenance tools. The store is MONGODB_URI
 * (or ACCESS_LOG_MONGODB_URI), database `<MONGODB_DB_PREFIX>audit`.
 *
 *   verify [--file export.jsonl] [--trusted-keys keys.json]   checks every chain; names each broken record; exit 1 if any
 *   export [--out file.jsonl]                                  the whole log with its chains and checkpoints, as JSON Lines
 *   prune [--retention-days N]                                 removes whole signed segments older than N days
 *                                                              (default ACCESS_LOG_RETENTION_DAYS, else 1095)
 *
 * `--trusted-keys`: a JSON object of key id → Ed25519 public key PEM (the instances' keys, from
 * CREDENCE_ACCESS_LOG_PRIVATE_KEY); without it each chain is checked against the key it carries.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { exportLines, parseExport, pruneAccessLog, readAccessLog } from '../lib/access-log/maintenance.ts';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import { verifyAccessLog, type VerificationReport } from '../lib/access-log/verify.ts';

const USAGE = `usage: npm run audit -- <command>

  verify [--file export.jsonl] [--trusted-keys keys.json]
  export [--out file.jsonl]
  prune [--retention-days N]`;

const DEFAULT_RETENTION_DAYS = 1095;

function storeUri(): string {
  const uri = process.env.ACCESS_LOG_MONGODB_URI || process.env.MONGODB_URI;
  if (!uri) throw new Error('Set MONGODB_URI (or ACCESS_LOG_MONGODB_URI) to the store of the access log, or verify an export with --file.');
  return uri;
}

async function withStore<T>(job: (store: AccessLogCollections) => Promise<T>): Promise<T> {
  const store = await connectAccessLogStore(storeUri(), { serverSelectionTimeoutMs: 5000 });
  try {
    return await job(store);
  } finally {
    await store.close();
  }
}

function printReport(report: VerificationReport): void {
  const records = report.chains.reduce((total, chain) => total + chain.records, 0);
  console.log(`access log: ${report.chains.length} chain(s), ${records} record(s)`);
  for (const chain of report.chains) {
    const signed = chain.signedThrough === null ? 'no checkpoint yet' : `signed through ${chain.signedThrough}`;
    const pruned = chain.prunedThrough === null ? '' : `, pruned through ${chain.prunedThrough}`;
    console.log(`  ${chain.chain}  (${chain.records} records, ${signed}, ${chain.unsignedTail} after the last checkpoint${pruned}, key ${chain.keyId ?? 'unknown'})`);
  }
  for (const problem of report.problems) {
    console.log(`${problem.kind} chain ${problem.chain} seq ${problem.seq ?? '-'} (instance ${problem.instance}): ${problem.message}`);
  }
  console.log(report.ok
    ? 'verified: no record edited, deleted, inserted or reordered, and every checkpoint signature holds'
    : `FAILED: ${report.problems.length} problem(s)`);
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      'trusted-keys': { type: 'string' },
      out: { type: 'string' },
      'retention-days': { type: 'string' },
    },
  });
  switch (positionals[0]) {
    case 'verify': {
      const trustedKeys = values['trusted-keys'] ? JSON.parse(readFileSync(values['trusted-keys'], 'utf8')) as Record<string, string> : undefined;
      const contents = values.file ? parseExport(readFileSync(values.file, 'utf8')) : await withStore(readAccessLog);
      const report = verifyAccessLog({ ...contents, ...(trustedKeys ? { trustedKeys } : {}) });
      printReport(report);
      return report.ok ? 0 : 1;
    }
    case 'export': {
      const contents = await withStore(readAccessLog);
      const out = values.out ? createWriteStream(values.out) : process.stdout;
      for (const line of exportLines(contents)) {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      }
      if (values.out) {
        out.end();
        await once(out, 'finish');
        console.error(`exported ${contents.records.length} records and ${contents.checkpoints.length} checkpoints to ${values.out}`);
      }
      return 0;
    }
    case 'prune': {
      const raw = values['retention-days'] ?? process.env.ACCESS_LOG_RETENTION_DAYS ?? String(DEFAULT_RETENTION_DAYS);
      const days = Number(raw);
      if (!Number.isInteger(days) || days < 0) throw new Error(`the retention must be a whole number of days, got "${raw}"`);
      const cutoff = new Date(Date.now() - days * 86_400_000);
      const results = await withStore((store) => pruneAccessLog(store, cutoff));
      for (const { chain, throughSeq, removed } of results) console.log(`pruned ${removed} record(s) of chain ${chain} through position ${throughSeq}`);
      console.log(`retention ${days} day(s): ${results.length} chain(s) pruned; checkpoints before ${cutoff.toISOString()} anchor what remains`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`audit: ${(error as Error).message}`);
  process.exitCode = 2;
}

/**
 * `npm run audit -- <command>`: the access log's maintenance tools. The store is
 * ACCESS_LOG_MONGODB_URI, else MONGODB_URI, else the store of a running `npm start` (named in
 * .data/store.json); database `<MONGODB_DB_PREFIX>audit`.
 *
 *   verify [--file export.jsonl] [--trusted-keys keys.json] [--witness file] [--retention-days N]
 *            checks every chain, the set of chains against the witness, and every prune; names each
 *            broken record; exit 1 if any
 *   witness [--witness file]   verifies, then countersigns every chain head with the audit key into
 *                              the witness file (from cron; the interval bounds what can be hidden)
 *   export [--out file.jsonl]  the whole log with its chains, checkpoints and prunes, as JSON Lines
 *   prune [--retention-days N] removes whole signed segments older than N days, under a mark signed
 *                              with the audit key (default ACCESS_LOG_RETENTION_DAYS, else 1095)
 *
 * Keys: CREDENCE_AUDIT_PRIVATE_KEY is the privacy office's audit key (witness, prune; never a
 * gateway's); verify checks against CREDENCE_AUDIT_PUBLIC_KEY (or the private key's public half).
 * The witness file is ACCESS_LOG_WITNESS_FILE unless --witness names one. `--trusted-keys`: a JSON
 * object of key id → Ed25519 public key PEM (the instances' keys, from CREDENCE_ACCESS_LOG_PRIVATE_KEY);
 * without it each chain is checked against the key it carries.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { auditKey, auditSigner, readToolSettings } from './config.ts';
import {
  exportLines,
  parseExport,
  pruneAccessLog,
  readAccessLog,
  type AccessLogContents,
} from '../lib/access-log/maintenance.ts';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import { verifyAccessLog, type VerificationReport } from '../lib/access-log/verify.ts';
import { STORE_FILE, runningStore } from './stack.ts';
import { WITNESS_FILE_ENV, appendWitness, readWitnessFile, witnessStatement } from '../lib/access-log/witness.ts';

const USAGE = `usage: npm run audit -- <command>

  verify [--file export.jsonl] [--trusted-keys keys.json] [--witness file] [--retention-days N]
  witness [--witness file]
  export [--out file.jsonl]
  prune [--retention-days N]`;

/** The access log's store, and says which (on standard error, so exports to standard output stay clean). */
function storeUri(): string {
  const settings = readToolSettings();
  if (settings.accessLogMongoUri) {
    console.error(`store: ${settings.accessLogMongoUriFrom}`);
    return settings.accessLogMongoUri;
  }
  const running = runningStore();
  if (running) {
    console.error(`store: ${running.description}, run by npm start (pid ${running.pid}, ${STORE_FILE})`);
    return running.uri;
  }
  throw new Error(
    'No store: set MONGODB_URI (or ACCESS_LOG_MONGODB_URI) to the store of the access log, run `npm start` ' +
      '(its store is found by itself), or verify an export with --file.',
  );
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
    const witnessed =
      chain.witnessedThrough === null ? 'not witnessed yet' : `witnessed through ${chain.witnessedThrough}`;
    console.log(
      `  ${chain.chain}  (${chain.records} records, ${signed}, ${chain.unsignedTail} after the last checkpoint, ${witnessed}${pruned}, key ${chain.keyId ?? 'unknown'})`,
    );
  }
  for (const problem of report.problems) {
    console.log(
      `${problem.kind} chain ${problem.chain} seq ${problem.seq ?? '-'} (instance ${problem.instance}): ${problem.message}`,
    );
  }
  console.log(
    report.ok
      ? 'verified: no record edited, deleted, inserted or reordered, and every checkpoint signature holds'
      : `FAILED: ${report.problems.length} problem(s)`,
  );
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
      witness: { type: 'string' },
    },
  });
  const retentionDays = (): number => {
    const raw = values['retention-days'] ?? String(readToolSettings().retentionDays);
    const days = Number(raw);
    if (!Number.isInteger(days) || days < 0)
      throw new Error(`the retention must be a whole number of days, got "${raw}"`);
    return days;
  };
  const witnessFile = values.witness ?? readToolSettings().witnessFile;
  /** Verification of `contents` against the witness and the audit key; printed. */
  const verify = async (contents: AccessLogContents): Promise<VerificationReport> => {
    const trustedKeys = values['trusted-keys']
      ? (JSON.parse(readFileSync(values['trusted-keys'], 'utf8')) as Record<string, string>)
      : undefined;
    const report = verifyAccessLog({
      ...contents,
      ...(trustedKeys ? { trustedKeys } : {}),
      auditKey: auditKey(),
      witness: witnessFile ? await readWitnessFile(witnessFile) : [],
      retentionDays: retentionDays(),
    });
    printReport(report);
    if (!witnessFile)
      console.log(
        `note: no witness file (${WITNESS_FILE_ENV} or --witness): a chain deleted whole or a tail cut after its last checkpoint is found only through the chain that followed it`,
      );
    return report;
  };
  switch (positionals[0]) {
    case 'verify': {
      const contents = values.file ? parseExport(readFileSync(values.file, 'utf8')) : await withStore(readAccessLog);
      return (await verify(contents)).ok ? 0 : 1;
    }
    case 'witness': {
      if (!witnessFile) throw new Error(`name the witness file: ${WITNESS_FILE_ENV} or --witness`);
      const signer = auditSigner();
      const contents = await withStore(readAccessLog);
      // Never countersign a log that does not verify: the evidence already there stays as it is.
      if (!(await verify(contents)).ok) return 1;
      const statement = witnessStatement(contents, signer);
      await appendWitness(witnessFile, statement);
      console.log(
        `witnessed ${statement.heads.length} chain head(s) into ${witnessFile} at ${statement.at.toISOString()}`,
      );
      return 0;
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
        console.error(
          `exported ${contents.records.length} records and ${contents.checkpoints.length} checkpoints to ${values.out}`,
        );
      }
      return 0;
    }
    case 'prune': {
      const days = retentionDays();
      const signer = auditSigner();
      const cutoff = new Date(Date.now() - days * 86_400_000);
      const results = await withStore((store) => pruneAccessLog(store, { cutoff, retentionDays: days, signer }));
      for (const { chain, throughSeq, removed } of results)
        console.log(`pruned ${removed} record(s) of chain ${chain} through position ${throughSeq}`);
      console.log(
        `retention ${days} day(s): ${results.length} chain(s) pruned; checkpoints before ${cutoff.toISOString()} anchor what remains`,
      );
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

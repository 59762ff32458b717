/**
 * Reading the access log whole (for verification and export), its JSON Lines export, and
 * retention. Retention removes only whole signed segments: the records of a chain up to a
 * checkpoint older than the retention period, keeping that checkpoint as the anchor the rest of
 * the chain links to and the chain's start (with its public key), so the log stays verifiable.
 * Each prune is stated in a mark signed by the privacy office's audit key, naming the range, the
 * anchor and the retention rule, so that a prune cannot be forged by whoever writes the store.
 */
import type { AccessLogCollections } from './store.ts';
import type { CheckpointSigner } from './keys.ts';
import { auditPayload, type AccessLogRecord, type Checkpoint, type PruneMark } from './record.ts';
import type { VerificationInput } from './verify.ts';

export interface AccessLogContents {
  records: AccessLogRecord[];
  checkpoints: Checkpoint[];
  prunes: PruneMark[];
}

export async function readAccessLog(store: AccessLogCollections): Promise<AccessLogContents> {
  const [records, checkpoints, prunes] = await Promise.all([
    store.records.find({}).sort({ chain: 1, seq: 1 }).toArray(),
    store.checkpoints.find({}).sort({ chain: 1, seq: 1 }).toArray(),
    store.prunes.find({}).toArray(),
  ]);
  return { records, checkpoints, prunes };
}

type ExportLine =
  | { type: 'record'; record: AccessLogRecord }
  | { type: 'checkpoint'; checkpoint: Checkpoint }
  | { type: 'prune'; prune: PruneMark };

/** One JSON object per line: records in chain order, then checkpoints, then retention marks. */
export function* exportLines(contents: AccessLogContents): Generator<string> {
  for (const record of contents.records) yield JSON.stringify({ type: 'record', record } satisfies ExportLine);
  for (const checkpoint of contents.checkpoints)
    yield JSON.stringify({ type: 'checkpoint', checkpoint } satisfies ExportLine);
  for (const prune of contents.prunes) yield JSON.stringify({ type: 'prune', prune } satisfies ExportLine);
}

const DATE_KEYS = new Set(['at', 'prunedAt', 'anchorAt']);

/** JSON with the access log's dates read back as dates (they hash as their ISO form either way). */
export function parseWithDates(line: string): unknown {
  return JSON.parse(line, (key, value: unknown) =>
    DATE_KEYS.has(key) && typeof value === 'string' ? new Date(value) : value,
  );
}

/** Reads an export back; a line that is not one of ours is refused with its number. */
export function parseExport(text: string): Omit<VerificationInput, 'trustedKeys'> & AccessLogContents {
  const contents: AccessLogContents = { records: [], checkpoints: [], prunes: [] };
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: ExportLine;
    try {
      parsed = parseWithDates(line) as ExportLine;
    } catch {
      throw new Error(`line ${index + 1} is not JSON`);
    }
    if (parsed.type === 'record') contents.records.push(parsed.record);
    else if (parsed.type === 'checkpoint') contents.checkpoints.push(parsed.checkpoint);
    else if (parsed.type === 'prune') contents.prunes.push(parsed.prune);
    else throw new Error(`line ${index + 1} is not an access-log export line`);
  });
  return contents;
}

export interface PruneResult {
  chain: string;
  throughSeq: number;
  removed: number;
}

/**
 * Removes, per chain, the records up to the newest checkpoint signed before `cutoff` (never the
 * chain start), under a mark signed by `signer` (the audit key) naming the range, the anchor and
 * `retentionDays`. The mark is written first, so an interrupted prune is completed by running it
 * again and never looks like a deletion.
 */
export async function pruneAccessLog(
  store: AccessLogCollections,
  options: { cutoff: Date; retentionDays: number; signer: CheckpointSigner },
): Promise<PruneResult[]> {
  const { cutoff, retentionDays, signer } = options;
  const results: PruneResult[] = [];
  const chains = await store.records.distinct('chain', { kind: 'CHAIN_START' });
  for (const chain of chains) {
    const previous = await store.prunes.findOne({ _id: chain });
    const anchor = await store.checkpoints
      .find({ chain, at: { $lt: cutoff }, seq: { $gte: Math.max(1, previous?.throughSeq ?? 0) } })
      .sort({ seq: -1 })
      .limit(1)
      .next();
    if (!anchor) continue;
    const unsigned = {
      chain,
      throughSeq: anchor.seq,
      anchorHash: anchor.hash,
      anchorAt: anchor.at,
      retentionDays,
      prunedAt: new Date(),
      keyId: signer.keyId,
    };
    const mark: PruneMark = { _id: chain, ...unsigned, signature: signer.sign(auditPayload(unsigned)) };
    await store.prunes.replaceOne({ _id: chain }, mark, { upsert: true });
    const { deletedCount } = await store.records.deleteMany({ chain, seq: { $gt: 0, $lte: anchor.seq } });
    await store.checkpoints.deleteMany({ chain, seq: { $lt: anchor.seq } });
    if (deletedCount > 0) results.push({ chain, throughSeq: anchor.seq, removed: deletedCount });
  }
  return results;
}

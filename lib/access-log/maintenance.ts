/**
 * Reading the access log whole (for verification and export), its JSON Lines export, and
 * retention. Retention removes only whole signed segments: the records of a chain up to a
 * checkpoint older than the retention period, keeping that checkpoint as the anchor the rest of
 * the chain links to and the chain's start (with its public key), so the log stays verifiable.
 */
import type { AccessLogCollections } from './store.ts';
import type { AccessLogRecord, Checkpoint, PruneMark } from './record.ts';
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
  for (const checkpoint of contents.checkpoints) yield JSON.stringify({ type: 'checkpoint', checkpoint } satisfies ExportLine);
  for (const prune of contents.prunes) yield JSON.stringify({ type: 'prune', prune } satisfies ExportLine);
}

const DATE_KEYS = new Set(['at', 'prunedAt']);

/** Reads an export back; a line that is not one of ours is refused with its number. */
export function parseExport(text: string): Omit<VerificationInput, 'trustedKeys'> & AccessLogContents {
  const contents: AccessLogContents = { records: [], checkpoints: [], prunes: [] };
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: ExportLine;
    try {
      parsed = JSON.parse(line, (key, value: unknown) => (DATE_KEYS.has(key) && typeof value === 'string' ? new Date(value) : value)) as ExportLine;
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
 * chain start). The retention mark is written first, so an interrupted prune is completed by
 * running it again and never looks like a deletion.
 */
export async function pruneAccessLog(store: AccessLogCollections, cutoff: Date): Promise<PruneResult[]> {
  const results: PruneResult[] = [];
  const chains = await store.records.distinct('chain', { kind: 'CHAIN_START' });
  for (const chain of chains) {
    const anchor = await store.checkpoints.find({ chain, at: { $lt: cutoff } }).sort({ seq: -1 }).limit(1).next();
    if (!anchor || anchor.seq < 1) continue;
    const previous = await store.prunes.findOne({ _id: chain });
    const throughSeq = Math.max(anchor.seq, previous?.throughSeq ?? 0);
    await store.prunes.updateOne({ _id: chain }, { $set: { chain, throughSeq, prunedAt: new Date() } }, { upsert: true });
    const { deletedCount } = await store.records.deleteMany({ chain, seq: { $gt: 0, $lte: throughSeq } });
    await store.checkpoints.deleteMany({ chain, seq: { $lt: throughSeq } });
    if (deletedCount > 0) results.push({ chain, throughSeq, removed: deletedCount });
  }
  return results;
}

/**
 * The access log's write-ahead journal: the gateway's own durable file of the records it has
 * sealed, so that an answer waits for one local synchronous append, not for the store.
 *
 * Why: a write to the log's store costs the store about a millisecond of CPU per insert
 * whatever its size, and the gateway the driver's whole per-command path (docs/benchmarks.md).
 * Answered from the journal, records reach the store in batches a shipper sends every
 * `shipIntervalMs` (writer.ts), so those costs are paid once per batch rather than once per
 * request or two.
 *
 * A journal is a folder of segments per chain, `<chain, URI-encoded>.<n>.jsonl`, one record per
 * line. A segment is removed once every record in it is in the store. Whatever a crash leaves
 * behind is replayed into the store by the instance's next start, before it opens its own chain
 * (so that chain names the real end of the one before). A torn last line (a crash inside a
 * write) was never acknowledged to anyone, so it is dropped.
 */
import { mkdir, open, readdir, readFile, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { isRunning } from '../processes.ts';
import { parseWithDates } from './maintenance.ts';
import type { AccessLogRecord } from './record.ts';

const SUFFIX = '.jsonl';

/** A segment's file name: the chain (URI-encoded, it holds `/` and `:`) and the segment's number. */
const segmentName = (chain: string, index: number): string => `${encodeURIComponent(chain)}.${index}${SUFFIX}`;

function parseSegmentName(name: string): { chain: string; index: number } | undefined {
  const match = /^(.+)\.(\d+)\.jsonl$/.exec(name);
  if (!match?.[1] || !match[2]) return undefined;
  try {
    return { chain: decodeURIComponent(match[1]), index: Number(match[2]) };
  } catch {
    return undefined;
  }
}

interface Segment {
  path: string;
  file: FileHandle;
  /** Bytes written and made durable: a failed write is cut back to here. */
  size: number;
  /** The last position this segment holds (-1: none yet). */
  lastSeq: number;
}

export interface AccessJournal {
  /** Appends the records and makes them durable (O_DSYNC) before resolving. One call at a time. */
  append(records: readonly AccessLogRecord[]): Promise<void>;
  /** Every record up to `seq` is in the store: the segments holding only such records are removed. */
  shippedThrough(seq: number): Promise<void>;
  /** Closes the open segment; removes it too when `shipped` (everything in it is in the store). */
  close(shipped: boolean): Promise<void>;
}

export interface JournalOptions {
  dir: string;
  chain: string;
  /** A new segment starts once the current one is this large (bytes). */
  segmentBytes?: number;
}

export async function openJournal(options: JournalOptions): Promise<AccessJournal> {
  const { dir, chain } = options;
  const segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let index = 0;
  const openSegment = async (): Promise<Segment> => {
    const path = join(dir, segmentName(chain, index++));
    // Created exclusively (a segment is never written twice, even by a clock gone backwards), and
    // O_DSYNC: each write returns once its data is on disk, one system call instead of a write
    // and an fdatasync (each a trip through libuv's thread pool).
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC;
    return { path, file: await open(path, flags, 0o600), size: 0, lastSeq: -1 };
  };
  let current = await openSegment();
  /** Full segments whose records are not all in the store yet, oldest first. */
  const full: Segment[] = [];

  return {
    async append(records) {
      const last = records.at(-1);
      if (!last) return;
      let text = '';
      for (const record of records) text += `${JSON.stringify(record)}\n`;
      const bytes = Buffer.from(text);
      try {
        const { bytesWritten } = await current.file.write(bytes, 0, bytes.length, current.size);
        if (bytesWritten !== bytes.length)
          throw new Error(`short write to the journal (${bytesWritten} of ${bytes.length} bytes)`);
      } catch (error) {
        // Nothing of a failed append was acknowledged: cut it off, so its positions can be sealed again.
        await current.file.truncate(current.size).catch(() => {});
        throw error;
      }
      current.size += bytes.length;
      current.lastSeq = last.seq;
      if (current.size >= segmentBytes) {
        await current.file.close();
        full.push(current);
        current = await openSegment();
      }
    },
    async shippedThrough(seq) {
      while (full[0] && full[0].lastSeq <= seq) {
        const done = full.shift() as Segment;
        await unlink(done.path).catch(() => {});
      }
    },
    async close(shipped) {
      await current.file.close();
      if (shipped) for (const segment of [...full, current]) await unlink(segment.path).catch(() => {});
    },
  };
}

/** The lock file that makes a journal folder one instance's: `<instance, URI-encoded>.lock`, holding the owner's pid. */
const lockPath = (dir: string, instance: string): string => join(dir, `${encodeURIComponent(instance)}.lock`);

/**
 * Claims the instance's journal for this process, or refuses: two processes of one instance on
 * one folder would each take the other's journal for a crashed one's, send it and remove it
 * while it is still being written. A lock whose process is gone is taken over; so is one
 * naming this very pid, which in a container is the previous container's (both were pid 1).
 */
export async function lockJournal(dir: string, instance: string): Promise<{ release(): Promise<void> }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = lockPath(dir, instance);
  // Created exclusively ('wx'), so that two starts at once cannot both take it.
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return { release: () => unlink(path).catch(() => {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner))
      throw new Error(
        `the access-log journal of instance ${instance} in ${dir} is in use by process ${owner}: give each gateway process its own CREDENCE_GATEWAY_INSTANCE`,
      );
    await unlink(path).catch(() => {});
  }
}

/** What an earlier process of this instance left in the journal: its chains' records in order, and the files that held them. */
export interface Leftover {
  chain: string;
  records: AccessLogRecord[];
  files: string[];
}

/** The journals an earlier process of `instance` left in `dir` (a crash, or a store that never came back before it stopped). */
export async function leftoverJournals(dir: string, instance: string): Promise<Leftover[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const byChain = new Map<string, { index: number; name: string }[]>();
  for (const name of names) {
    const parsed = parseSegmentName(name);
    if (!parsed?.chain.startsWith(`${instance}/`)) continue;
    byChain.set(parsed.chain, [...(byChain.get(parsed.chain) ?? []), { index: parsed.index, name }]);
  }
  const leftovers: Leftover[] = [];
  // Chains are named `<instance>/<ISO start time>/<random>`: by name is by start.
  for (const [chain, segments] of [...byChain].sort(([a], [b]) => a.localeCompare(b))) {
    const files = segments.sort((a, b) => a.index - b.index).map(({ name }) => join(dir, name));
    const records: AccessLogRecord[] = [];
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      for (const [number, line] of lines.entries()) {
        if (line === '') continue;
        try {
          records.push(parseWithDates(line) as AccessLogRecord);
        } catch (error) {
          // Only a segment's last line can be torn (a crash inside its write); anything else is damage to report.
          if (number === lines.length - 1) continue;
          throw new Error(`${file} line ${number + 1} is not a record`, { cause: error });
        }
      }
    }
    leftovers.push({ chain, records, files });
  }
  return leftovers;
}

/**
 * The gateway's access-log writer: records are sealed into the instance's hash chain and stored
 * durably (journaled, majority-acknowledged) before the answer they describe is released.
 *
 * Group commit: records arriving while a write is in flight wait and go together in the next
 * insert (up to `maxBatch`), so the store sees one command per batch rather than one per
 * request, and a quiet gateway adds no waiting at all.
 *
 * Failure: when a write is not acknowledged (store unreachable, timeout), every request of the
 * batch is refused (the caller withholds its answer) and the writer is broken. The next write
 * first reads the chain's tail back from the store and continues from there; records of refused
 * requests that did reach the store are then covered by a WITHHELD record, so the log never
 * claims an answer that was not released. Meanwhile requests fail fast. No restart is needed.
 *
 * With a journal (`journalDir`, journal.ts), a record is durable once appended to the gateway's
 * own journal file, and answers wait for that alone. A shipper sends the journaled records to
 * the store every `shipIntervalMs`, in one insert, in order; a position the store already holds
 * is checked (the same record: sent before, its acknowledgement lost) or taken back (a record
 * this gateway did not write, which it replaces, and says so). While the store does not take
 * them, answers go on until the oldest record waiting is `maxLagMs` old; then requests are
 * refused, as without a journal, until the store takes the backlog. A failed journal append
 * breaks the writer like a failed store write, and its records were never acknowledged, so no
 * WITHHELD record is needed there.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import type { Logger } from '../logger.ts';
import { leftoverJournals, lockJournal, openJournal, type AccessJournal } from './journal.ts';
import { DURABLE_WRITE, type AccessLogCollections } from './store.ts';
import type { CheckpointSigner } from './keys.ts';
import {
  GENESIS_HASH,
  checkpointPayload,
  recordHash,
  recordId,
  type AccessEntry,
  type AccessLogRecord,
  type ChainTail,
  type Checkpoint,
  type LogBody,
} from './record.ts';

export interface AccessLogWriterOptions {
  store: AccessLogCollections;
  signer: CheckpointSigner;
  /** The gateway instance, stable across restarts (each start still opens a chain of its own). */
  instance: string;
  log: Logger;
  /** A checkpoint after this many records... */
  checkpointEvery?: number;
  /** ...or after this long with unsigned records, whichever comes first. */
  checkpointIntervalMs?: number;
  maxBatch?: number;
  /** How long a write may take before its requests are refused. */
  writeTimeoutMs?: number;
  /** After a failure, requests fail at once for this long before the store is tried again. */
  retryAfterMs?: number;
  /** The write-ahead journal's folder (journal.ts); unset, every record is written to the store before its answer. */
  journalDir?: string;
  /** With a journal: how often journaled records are sent to the store. */
  shipIntervalMs?: number;
  /** With a journal: requests are refused once the oldest record the store has not taken is this old. */
  maxLagMs?: number;
}

/** Told of each batch of access records the writer stores or refuses (the gateway's metrics). */
export interface AccessLogObserver {
  /** A batch acknowledged by the store after `seconds`. */
  written(records: number, seconds: number): void;
  /** A batch refused: the write failed after `seconds`, or (undefined) was not tried, the store having just failed. */
  failed(records: number, seconds: number | undefined): void;
}

export interface AccessLogWriter {
  readonly chain: string;
  readonly instance: string;
  /** Records waiting for the next write (optional: stand-ins in tests have none). */
  readonly queueDepth?: number;
  /** With a journal: records journaled (their answers released) that the store has not taken yet. */
  readonly unshipped?: number;
  /** False while the writer is broken (a write failed and the store has not been written to since). */
  readonly writable?: boolean;
  /** Tells `observer` of every batch from now on (several gateways in one process may each observe one writer). */
  observe?(observer: AccessLogObserver): void;
  /** Resolves once the record is durable (in the store, or in the journal); rejects with AccessLogUnavailableError otherwise. */
  append(entry: AccessEntry): Promise<void>;
  /** Whether the store answers (the gateway's readiness: while it does not, nothing is answered). */
  ping(): Promise<boolean>;
  /** Writes what is pending and a final checkpoint. */
  close(): Promise<void>;
}

export class AccessLogUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('the access log cannot be written', { cause });
    this.name = 'AccessLogUnavailableError';
  }
}

/** `gateway@<host>:<port>`, for an instance its configuration does not name (CREDENCE_GATEWAY_INSTANCE). */
export function defaultInstanceName(port: number): string {
  return `gateway@${hostname()}:${port || process.pid}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The writer's phase: writable; broken since a write failed (requests fail fast with the cause
 * until `retryAfterMs` has passed; the next write then reads the chain's tail back and continues
 * from it); or closed (nothing more is accepted; the records already waiting are still written).
 */
type WriterPhase = { kind: 'writable' } | { kind: 'broken'; since: number; cause: unknown } | { kind: 'closed' };

/** Where this process's chain stands. */
interface ChainPosition {
  /** The next record's position and the hash it links to. */
  next: { seq: number; prev: string };
  /** The last record the store acknowledged. */
  acknowledged: ChainTail | null;
  /** The position the last checkpoint signed (-1: none yet). */
  checkpointedSeq: number;
}

/** What arrives between writes: records wait for the next write (group commit). */
interface Intake {
  pending: Waiting[];
  scheduled: boolean;
}

interface Waiting {
  entry: AccessEntry;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The last record of the instance's most recent chain, which the new chain names as its predecessor. */
async function previousTail(store: AccessLogCollections, instance: string): Promise<ChainTail | null> {
  const start = await store.records.find({ instance, kind: 'CHAIN_START' }).sort({ at: -1 }).limit(1).next();
  if (!start) return null;
  const last = await store.records.find({ chain: start.chain }).sort({ seq: -1 }).limit(1).next();
  return last ? { chain: last.chain, seq: last.seq, hash: last.hash } : null;
}

export async function openAccessLogWriter(options: AccessLogWriterOptions): Promise<AccessLogWriter> {
  const { store, signer, instance, log } = options;
  const checkpointEvery = options.checkpointEvery ?? 1000;
  const checkpointIntervalMs = options.checkpointIntervalMs ?? 5000;
  const maxBatch = options.maxBatch ?? 500;
  const writeTimeoutMs = options.writeTimeoutMs ?? 3000;
  const retryAfterMs = options.retryAfterMs ?? 250;
  const shipIntervalMs = options.shipIntervalMs ?? 100;
  const maxLagMs = options.maxLagMs ?? 10_000;
  // Sortable by start time, unique across processes of one instance.
  const chain = `${instance}/${new Date().toISOString()}/${randomBytes(3).toString('hex')}`;

  /** Where the chain stands: the next position and the hash it links to, the last record the store acknowledged, the last one signed. */
  const position: ChainPosition = { next: { seq: 0, prev: GENESIS_HASH }, acknowledged: null, checkpointedSeq: -1 };
  /** Whether the store takes writes, and whether the writer takes records (its phase). */
  let phase: WriterPhase = { kind: 'writable' };
  /** Records waiting for the next write, and whether that write is scheduled. */
  const intake: Intake = { pending: [], scheduled: false };
  const observers: AccessLogObserver[] = [];
  // One write at a time, in order: the chain is a sequence. Not two in flight: the later batch
  // could be stored while the earlier one is lost (a timeout, a crash of this process), which
  // leaves positions missing inside the chain, and verify rightly calls that deletion. With one
  // at a time, a lost write can only cut the chain's unsigned tail short, which recover() and
  // WITHHELD account for. An insert cannot be made conditional on an earlier one being stored.
  const inOrder = (): ((job: () => Promise<void>) => Promise<void>) => {
    let queue: Promise<void> = Promise.resolve();
    return (job) => {
      const run = queue.then(job);
      queue = run.catch(() => {});
      return run;
    };
  };
  /** Writes to the store, one at a time. */
  const exclusive = inOrder();

  const seal = (body: LogBody): AccessLogRecord => {
    const { next } = position;
    const unsealed = { ...body, chain, seq: next.seq, instance, prev: next.prev } as Omit<
      AccessLogRecord,
      '_id' | 'hash'
    >;
    const hash = recordHash(unsealed);
    const record = { _id: recordId(chain, next.seq), ...unsealed, hash } as AccessLogRecord;
    position.next = { seq: next.seq + 1, prev: hash };
    return record;
  };

  const insert = async (records: readonly AccessLogRecord[]): Promise<void> => {
    const [only] = records;
    // A batch of one (a gateway that is not busy) costs the gateway less through insertOne,
    // which skips the driver's bulk-write machinery; both are acknowledged alike.
    const written: Promise<unknown> =
      records.length === 1 && only
        ? store.records.insertOne(only, DURABLE_WRITE)
        : store.records.insertMany([...records], { ordered: true, ...DURABLE_WRITE });
    await withTimeout(written, writeTimeoutMs);
    const last = records.at(-1);
    if (last?.chain === chain) position.acknowledged = { chain, seq: last.seq, hash: last.hash };
  };

  /**
   * Journaled records into the store, whatever it already holds at their positions: the same
   * record (sent before, its acknowledgement lost) is left as it is; any other record there was
   * not written by this gateway, and the one it answered with takes its place.
   */
  const ship = async (records: readonly AccessLogRecord[]): Promise<void> => {
    try {
      await insert(records);
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
    }
    for (const record of records) {
      const stored = await withTimeout(store.records.findOne({ _id: record._id }), writeTimeoutMs);
      if (!stored) await insert([record]);
      else if (stored.hash !== record.hash) {
        await withTimeout(store.records.replaceOne({ _id: record._id }, record, DURABLE_WRITE), writeTimeoutMs);
        log.warn(
          { chain: record.chain, seq: record.seq, found: stored.hash, written: record.hash },
          'the access log held a record this gateway did not write at one of its positions; replaced by the journaled one',
        );
      }
    }
    const last = records.at(-1);
    if (last?.chain === chain) position.acknowledged = { chain, seq: last.seq, hash: last.hash };
  };

  /** After a failure: continue from what the store holds, marking records of refused requests. */
  const recover = async (): Promise<void> => {
    // A failed journal append was cut off and acknowledged nothing: its positions are free again.
    if (!journal) {
      const tail = await withTimeout(store.records.find({ chain }).sort({ seq: -1 }).limit(1).next(), writeTimeoutMs);
      const { acknowledged } = position;
      const ackedSeq = acknowledged?.seq ?? -1;
      if (tail && tail.seq > ackedSeq) {
        position.next = { seq: tail.seq + 1, prev: tail.hash };
        await insert([seal({ kind: 'WITHHELD', at: new Date(), fromSeq: ackedSeq + 1, toSeq: tail.seq })]);
      } else if (acknowledged) {
        // Nothing of the failed batch arrived (or acknowledged records vanished, which verify reports).
        position.next = { seq: acknowledged.seq + 1, prev: acknowledged.hash };
      }
    }
    log.warn({ chain, resumedAt: position.next.seq }, 'access log writable again');
    // Unless closed meanwhile: a closed writer never takes records again.
    if (phase.kind === 'broken') phase = { kind: 'writable' };
  };

  const checkpoint = async (): Promise<void> => {
    const tail = position.acknowledged;
    if (!tail || tail.seq <= position.checkpointedSeq) return;
    const unsigned = { chain, seq: tail.seq, hash: tail.hash, at: new Date(), keyId: signer.keyId };
    const document: Checkpoint = {
      _id: recordId(chain, tail.seq),
      ...unsigned,
      signature: signer.sign(checkpointPayload(unsigned)),
    };
    try {
      await withTimeout(store.checkpoints.insertOne(document, DURABLE_WRITE), writeTimeoutMs);
      position.checkpointedSeq = tail.seq;
    } catch (error) {
      // The records are durable; the checkpoint is written with the next one.
      log.warn({ chain, seq: tail.seq, reason: (error as Error).message }, 'access-log checkpoint not written yet');
    }
  };
  const checkpointIfDue = async (): Promise<void> => {
    if ((position.acknowledged?.seq ?? 0) - position.checkpointedSeq >= checkpointEvery) await checkpoint();
  };

  // What an earlier process of this instance left in the journal goes to the store first, so
  // that this chain's start names the real end of the one before it.
  const journalDir = options.journalDir;
  const journalLock = journalDir ? await lockJournal(journalDir, instance) : undefined;
  if (journalDir)
    for (const leftover of await leftoverJournals(journalDir, instance)) {
      for (let from = 0; from < leftover.records.length; from += maxBatch)
        await ship(leftover.records.slice(from, from + maxBatch));
      for (const file of leftover.files) await unlink(file);
      log.warn(
        { chain: leftover.chain, records: leftover.records.length },
        'access-log records an earlier process journaled were sent to the store',
      );
    }
  const journal: AccessJournal | undefined = journalDir ? await openJournal({ dir: journalDir, chain }) : undefined;

  /** With a journal: records journaled, their answers released, that the store has not taken yet, oldest first. */
  const unshipped: AccessLogRecord[] = [];
  /** When each of them was journaled (ms since the epoch), in the same order. */
  const journaledAt: number[] = [];
  let shipTimer: NodeJS.Timeout | undefined;
  /** Why the store last refused what was shipped, while it does (the lag then grows). */
  let shipFailure: unknown;
  const lagMs = (): number => (journaledAt[0] === undefined ? 0 : Date.now() - journaledAt[0]);
  const lagging = (): boolean => lagMs() > maxLagMs;

  /** Sends what is journaled to the store, in batches, until nothing waits or the store refuses. */
  const shipJournaled = async (): Promise<boolean> => {
    shipTimer = undefined;
    while (unshipped.length > 0) {
      const batch = unshipped.slice(0, maxBatch);
      const started = performance.now();
      try {
        await ship(batch);
      } catch (error) {
        if (shipFailure === undefined)
          log.error(
            { chain, waiting: unshipped.length, reason: (error as Error).message },
            'the access log store does not take journaled records; answers go on until they are too old',
          );
        shipFailure = error;
        return false;
      }
      if (shipFailure !== undefined) log.warn({ chain }, 'the access log store takes journaled records again');
      shipFailure = undefined;
      unshipped.splice(0, batch.length);
      journaledAt.splice(0, batch.length);
      const seconds = (performance.now() - started) / 1000;
      for (const observer of observers) observer.written(batch.length, seconds);
      await journal?.shippedThrough(position.acknowledged?.seq ?? -1);
      await checkpointIfDue();
    }
    return true;
  };
  const scheduleShipping = (delayMs: number): void => {
    if (shipTimer || phase.kind === 'closed') return;
    shipTimer = setTimeout(
      () =>
        void exclusive(async () => {
          if (!(await shipJournaled())) scheduleShipping(retryAfterMs);
        }),
      delayMs,
    );
    // A process may exit without waiting for it: what it would send is in the journal, for the next start.
    shipTimer.unref();
  };

  /** Makes a batch durable: in the journal (then shipped), or in the store. */
  const persist = async (records: AccessLogRecord[]): Promise<void> => {
    if (!journal) return insert(records);
    await journal.append(records);
    const now = Date.now();
    for (const record of records) {
      unshipped.push(record);
      journaledAt.push(now);
    }
    scheduleShipping(shipIntervalMs);
  };
  /** Appends to the journal, one at a time and in order; without one, these are the store's writes. */
  const durably = journal ? inOrder() : exclusive;

  const flush = async (): Promise<void> => {
    intake.scheduled = false;
    while (intake.pending.length > 0) {
      const batch = intake.pending.splice(0, maxBatch);
      let attempted = false;
      let writeStarted: number | undefined;
      try {
        if (phase.kind === 'broken') {
          if (Date.now() - phase.since < retryAfterMs) throw phase.cause;
          attempted = true;
          await recover();
        }
        attempted = true;
        const before = position.next;
        writeStarted = performance.now();
        try {
          await persist(batch.map(({ entry }) => seal({ kind: 'ACCESS', ...entry })));
        } catch (error) {
          position.next = before;
          throw error;
        }
        // Journaled records are counted as written when the store takes them (shipJournaled).
        if (!journal) {
          const seconds = (performance.now() - writeStarted) / 1000;
          for (const observer of observers) observer.written(batch.length, seconds);
        }
        for (const waiting of batch) waiting.resolve();
        if (!journal) await checkpointIfDue();
      } catch (cause) {
        if (phase.kind !== 'broken')
          log.error(
            { chain, reason: (cause as Error).message },
            'access log unavailable: answers are withheld until it can be written',
          );
        // Failing fast does not postpone the next attempt; a failed attempt does. Closed stays closed.
        if (phase.kind === 'writable' || (phase.kind === 'broken' && attempted))
          phase = { kind: 'broken', since: Date.now(), cause };
        const error = new AccessLogUnavailableError(cause);
        const seconds = writeStarted === undefined ? undefined : (performance.now() - writeStarted) / 1000;
        for (const observer of observers) observer.failed(batch.length, seconds);
        for (const waiting of batch) waiting.reject(error);
      }
    }
  };

  // The chain's start: which instance, which key, and which chain of the instance came before.
  // Written to the store itself, journal or not: a gateway starts only with a store that takes the log.
  const previous = await previousTail(store, instance);
  await exclusive(() =>
    insert([
      seal({ kind: 'CHAIN_START', at: new Date(), keyId: signer.keyId, publicKey: signer.publicKeyPem, previous }),
    ]),
  );
  await exclusive(checkpoint);
  if (signer.generated)
    log.warn(
      { keyId: signer.keyId },
      'access-log checkpoints are signed with a key generated for this process; set CREDENCE_ACCESS_LOG_PRIVATE_KEY in production',
    );
  log.info({ chain, previous: previous?.chain ?? null, journal: Boolean(journal) }, 'access log chain opened');

  const timer = setInterval(() => {
    if (phase.kind === 'writable' && (position.acknowledged?.seq ?? -1) > position.checkpointedSeq)
      void exclusive(checkpoint);
  }, checkpointIntervalMs);
  timer.unref();

  return {
    chain,
    instance,
    get queueDepth() {
      return intake.pending.length;
    },
    get unshipped() {
      return unshipped.length;
    },
    get writable() {
      return phase.kind === 'writable' && !lagging();
    },
    observe(observer) {
      observers.push(observer);
    },
    append(entry) {
      if (phase.kind === 'closed')
        return Promise.reject(new AccessLogUnavailableError(new Error('the access log is closed')));
      if (lagging()) {
        for (const observer of observers) observer.failed(1, undefined);
        return Promise.reject(
          new AccessLogUnavailableError(
            new Error(`the store has not taken the access log for ${lagMs()} ms`, { cause: shipFailure }),
          ),
        );
      }
      return new Promise<void>((resolve, reject) => {
        intake.pending.push({ entry, resolve, reject });
        if (!intake.scheduled) {
          intake.scheduled = true;
          // Records arriving in the same turn of the event loop share the write.
          setImmediate(() => void durably(flush));
        }
      });
    },
    ping: async () => {
      const reply = await withTimeout(
        store.connection.db?.admin().ping() ?? Promise.resolve({ ok: 0 }),
        writeTimeoutMs,
      ).catch(() => ({ ok: 0 }));
      return reply.ok === 1;
    },
    async close() {
      const closing = phase;
      phase = { kind: 'closed' };
      clearInterval(timer);
      clearTimeout(shipTimer);
      shipTimer = undefined;
      // What was already waiting is written (a broken writer tries once more); then the last checkpoint.
      await durably(flush);
      if (journal) {
        const shipped = await exclusive(async () => void (await shipJournaled())).then(() => unshipped.length === 0);
        await journal.close(shipped);
        await journalLock?.release();
        if (!shipped)
          log.warn(
            { chain, records: unshipped.length },
            'access-log records are left in the journal for the store; the next start of this instance sends them',
          );
      }
      if (closing.kind === 'writable') await exclusive(checkpoint);
    },
  };
}

/**
 * The access log's records: what one answered request leaves behind, and the hash chain that
 * makes an edited, removed, inserted or reordered record detectable (chain.ts verifies it).
 *
 * Records are chained per gateway process: each process start opens a chain of its own (a
 * CHAIN_START record naming the instance, its public key and the previous chain of the same
 * instance), so two processes never write into one chain and a restart needs no coordination.
 */
import { createHash } from 'node:crypto';

/** ANSWERED: data, no errors; PARTIAL: data and errors; REJECTED: refused by policy; FAILED: no data. */
export const ACCESS_OUTCOMES = ['ANSWERED', 'PARTIAL', 'REJECTED', 'FAILED'] as const;
export type AccessOutcome = (typeof ACCESS_OUTCOMES)[number];

/** What the gateway knows about one request once it has been decided and executed. */
export interface AccessEntry {
  at: Date;
  requestId: string;
  consumer: string;
  purpose: string;
  policyVersion: string;
  operationName: string | null;
  /** SHA-256 of the operation text as received. */
  operationHash: string;
  outcome: AccessOutcome;
  /** `Type.field` of every field answered (denied ones excluded), sorted. */
  fields: string[];
  /** Codes of the subjects the request named or the answer contained, sorted. */
  subjects: string[];
  deniedFields: string[];
  maskedFields: string[];
  /** The codes of the errors the request was answered with, sorted (a refusal's or a failure's; empty when answered cleanly). */
  errorCodes?: string[];
  durationMs: number;
  /**
   * The request's trace id (OpenTelemetry, docs/tracing.md) where tracing is on: the same request
   * in the traces. Absent otherwise; sealed into the record's hash like every other field.
   */
  traceId?: string;
}

/** Where a chain ended: the last record of an instance's previous chain. */
export interface ChainTail {
  chain: string;
  seq: number;
  hash: string;
}

export type LogBody =
  | ({ kind: 'ACCESS' } & AccessEntry)
  | { kind: 'CHAIN_START'; at: Date; keyId: string; publicKey: string; previous: ChainTail | null }
  /** Records of seq fromSeq..toSeq may be stored although their answers were withheld (the write was not acknowledged). */
  | { kind: 'WITHHELD'; at: Date; fromSeq: number; toSeq: number };

/** The chain fields every stored record carries. */
export interface ChainLink {
  /** `<chain>:<seq>`: one record per position, enforced by the store's unique `_id`. */
  _id: string;
  chain: string;
  seq: number;
  instance: string;
  /** The hash of the record before (GENESIS_HASH for seq 0). */
  prev: string;
  /** SHA-256 of the canonical JSON of every other field of the record. */
  hash: string;
}

export type AccessLogRecord = ChainLink & LogBody;
export interface AccessRecordDocument extends ChainLink, AccessEntry {
  kind: 'ACCESS';
}

/** A signed statement by the instance's key: the chain up to `seq` ends in `hash`. */
export interface Checkpoint {
  _id: string;
  chain: string;
  seq: number;
  hash: string;
  at: Date;
  keyId: string;
  /** Ed25519 over the canonical JSON of chain, seq, hash, at and keyId; base64url. */
  signature: string;
}

/**
 * Records 1..throughSeq of `chain` were removed by retention; checkpoint `throughSeq` is kept as
 * the anchor. Signed by the privacy office's audit key (keys.ts), never by a gateway: a mark that
 * key did not sign, or that removes records younger than the retention period, is BAD_PRUNE.
 */
export interface PruneMark {
  _id: string;
  chain: string;
  throughSeq: number;
  /** The hash the anchor checkpoint signed: the rest of the chain links to it. */
  anchorHash: string;
  /** When the anchor checkpoint was signed: the newest pruned record is no younger. */
  anchorAt: Date;
  /** The retention rule applied: records older than this many days may be removed. */
  retentionDays: number;
  prunedAt: Date;
  keyId: string;
  /** Ed25519 by the audit key over the canonical JSON of every other field but `_id`; base64url. */
  signature: string;
}

/** A chain's last record as a witness saw it. */
export interface WitnessedHead {
  chain: string;
  instance: string;
  seq: number;
  hash: string;
}

/**
 * The privacy office's countersignature of every chain head it saw at `at`, signed by the audit
 * key and kept outside the log's store (the witness file): a chain or tail deleted after it was
 * witnessed is missed there, whoever can write the store.
 */
export interface WitnessStatement {
  at: Date;
  keyId: string;
  heads: WitnessedHead[];
  signature: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export const recordId = (chain: string, seq: number): string => `${chain}:${seq}`;

/**
 * JSON with object keys sorted at every level and dates as ISO strings: the same record always
 * serializes to the same bytes, whichever store or file it was read back from.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  // Written as loops, not entries/filter/map/join: every answered request hashes its record here.
  if (Array.isArray(value)) {
    let json = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) json += ',';
      // As JSON.stringify of a list would not: an undefined item is left empty, as join left it.
      json += (canonicalJson(value[index]) as string | undefined) ?? '';
    }
    return `${json}]`;
  }
  const object = value as Record<string, unknown>;
  let json = '{';
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    if (json.length > 1) json += ',';
    json += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${json}}`;
}

/** The hash a record must carry: over everything but `_id` (derived) and `hash` itself. */
export function recordHash(record: Omit<AccessLogRecord, '_id' | 'hash'> & { _id?: string; hash?: string }): string {
  const { _id, hash, ...sealed } = record;
  void _id;
  void hash;
  return createHash('sha256').update(canonicalJson(sealed)).digest('hex');
}

/** The bytes an audit-key signature covers (a prune mark, a witness statement): everything but `_id` and the signature. */
export function auditPayload(signed: object): Buffer {
  const { _id, signature, ...covered } = signed as { _id?: unknown; signature?: unknown };
  void _id;
  void signature;
  return Buffer.from(canonicalJson(covered));
}

/** The bytes a checkpoint's signature covers. */
export function checkpointPayload(checkpoint: Omit<Checkpoint, '_id' | 'signature'>): Buffer {
  const { chain, seq, hash, at, keyId } = checkpoint;
  return Buffer.from(canonicalJson({ chain, seq, hash, at, keyId }));
}

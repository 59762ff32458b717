/**
 * Verification of the access log: every chain rebuilt from its records, checked link by link and
 * against its signed checkpoints. A pure function over what was read (from the store or from an
 * export), so `npm run audit -- verify` and `verify --file` decide alike.
 *
 * What each problem means:
 * - EDITED: a record's content no longer matches its hash, or it was re-hashed and its successor
 *   (or a checkpoint) recorded another hash for it;
 * - DELETED: positions missing in a chain (or signed by a checkpoint but gone), or a whole
 *   previous chain of an instance missing;
 * - INSERTED: a record that no gateway wrote at that position (a second record claiming a
 *   position, or one whose id does not match its position);
 * - REORDERED: a record sealed at one position found at another;
 * - BAD_CHECKPOINT: a checkpoint whose signature does not verify with the chain's key;
 * - UNTRUSTED_KEY: a chain signed by a key not among the trusted keys given.
 *
 * Records after a chain's last checkpoint are linked but not yet signed: reported as the
 * chain's unsigned tail, not as a problem (a running gateway always has one, for at most the
 * checkpoint interval).
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import {
  GENESIS_HASH, checkpointPayload, recordHash, recordId,
  type AccessLogRecord, type Checkpoint, type PruneMark,
} from './record.ts';

export type ProblemKind = 'EDITED' | 'DELETED' | 'INSERTED' | 'REORDERED' | 'BAD_CHECKPOINT' | 'UNTRUSTED_KEY';

export interface VerificationProblem {
  kind: ProblemKind;
  chain: string;
  instance: string;
  /** The position concerned (the first one, for a range). */
  seq: number | null;
  message: string;
}

export interface ChainSummary {
  chain: string;
  instance: string;
  keyId: string | null;
  records: number;
  /** The last position a valid checkpoint signs, or null if none does yet. */
  signedThrough: number | null;
  /** Linked records after the last checkpoint. */
  unsignedTail: number;
  prunedThrough: number | null;
}

export interface VerificationReport {
  ok: boolean;
  chains: ChainSummary[];
  problems: VerificationProblem[];
}

export interface VerificationInput {
  records: Iterable<AccessLogRecord>;
  checkpoints: Iterable<Checkpoint>;
  prunes: Iterable<PruneMark>;
  /** Key id → public key (PEM). When given, chains signed by any other key are refused. */
  trustedKeys?: Readonly<Record<string, string>>;
}

/** How far from its position a moved record is recognised as moved rather than edited. */
const REORDER_WINDOW = 64;

function group<T extends { chain: string }>(items: Iterable<T>): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.chain);
    if (list) list.push(item);
    else groups.set(item.chain, [item]);
  }
  return groups;
}

/** The position a record was sealed at, if it is near `seq` but not `seq` itself. */
function sealedPosition(record: AccessLogRecord): number | null {
  for (let distance = 1; distance <= REORDER_WINDOW; distance++) {
    for (const candidate of [record.seq - distance, record.seq + distance]) {
      if (candidate >= 0 && recordHash({ ...record, seq: candidate }) === record.hash) return candidate;
    }
  }
  return null;
}

function publicKeyOf(pem: string): KeyObject | null {
  try {
    return createPublicKey(pem);
  } catch {
    return null;
  }
}

function verifyChain(
  chain: string,
  stored: AccessLogRecord[],
  checkpoints: Checkpoint[],
  prune: PruneMark | undefined,
  trustedKeys: Readonly<Record<string, string>> | undefined,
  problems: VerificationProblem[],
): ChainSummary {
  const start = stored.find((record) => record.seq === 0 && record.kind === 'CHAIN_START' && record._id === recordId(chain, 0));
  const instance = start?.instance ?? stored[0]?.instance ?? 'unknown';
  const report = (kind: ProblemKind, seq: number | null, message: string): void => void problems.push({ kind, chain, instance, seq, message });

  // Two records claiming one position: the one a gateway wrote has the position's id.
  const bySeq = new Map<number, AccessLogRecord[]>();
  for (const record of stored) bySeq.set(record.seq, [...(bySeq.get(record.seq) ?? []), record]);
  const records: AccessLogRecord[] = [];
  for (const [seq, claimants] of [...bySeq].sort(([a], [b]) => a - b)) {
    for (const record of claimants) {
      if (record._id !== recordId(chain, seq)) {
        report('INSERTED', seq, `record ${record._id} claims position ${seq} of chain ${chain} but no gateway wrote it there (its id does not match its position)`);
      } else {
        records.push(record);
      }
    }
  }

  // The chain's key: from its start record (hash-protected, and signed by its first checkpoint).
  let key: KeyObject | null = null;
  let keyId: string | null = null;
  if (!start) {
    report('DELETED', 0, 'the chain start (position 0, with the instance\'s public key) is missing; its checkpoints cannot be checked');
  } else if (start.kind === 'CHAIN_START') {
    keyId = start.keyId;
    key = publicKeyOf(start.publicKey);
    const trusted = trustedKeys?.[start.keyId];
    if (trustedKeys && trusted === undefined) {
      report('UNTRUSTED_KEY', 0, `the chain is signed by key ${start.keyId}, which is not among the trusted keys`);
    } else if (trusted !== undefined && !(key && publicKeyOf(trusted)?.equals(key))) {
      report('UNTRUSTED_KEY', 0, `the chain's public key for ${start.keyId} differs from the trusted key of that id`);
    }
  }

  // Checkpoints whose signatures hold; the others are problems and anchor nothing.
  const signed = new Map<number, Checkpoint>();
  for (const checkpoint of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    let valid = false;
    if (key && checkpoint.keyId === keyId) {
      try {
        valid = verifySignature(null, checkpointPayload(checkpoint), key, Buffer.from(checkpoint.signature, 'base64url'));
      } catch {
        valid = false;
      }
    }
    if (valid) signed.set(checkpoint.seq, checkpoint);
    else if (key) report('BAD_CHECKPOINT', checkpoint.seq, `the checkpoint at position ${checkpoint.seq} does not carry a valid signature of the chain's key ${keyId}`);
  }

  // Retention removed positions 1..throughSeq; the signed checkpoint there is where the chain resumes.
  let prunedThrough: number | null = null;
  let expected = 0;
  let lastHash = GENESIS_HASH;
  let previousFlagged = false;
  if (prune) {
    const anchor = signed.get(prune.throughSeq);
    if (anchor) prunedThrough = prune.throughSeq;
    else report('DELETED', 1, `records 1..${prune.throughSeq} are marked as pruned but no valid checkpoint at ${prune.throughSeq} anchors the rest of the chain`);
  }

  const byStoredHash = new Map(records.map((record) => [record.hash, record]));
  for (const record of records) {
    const { seq } = record;
    // Left over by an interrupted prune (the mark is written first); running prune again removes it.
    if (prunedThrough !== null && seq > 0 && seq <= prunedThrough) continue;
    if (prunedThrough !== null && expected === 1) {
      expected = prunedThrough + 1;
      lastHash = signed.get(prunedThrough)?.hash ?? lastHash;
    }
    let flagged = false;
    if (seq > expected) {
      report('DELETED', expected, expected === seq - 1 ? `record ${expected} is missing` : `records ${expected}..${seq - 1} are missing`);
      flagged = true;
    }
    if (recordHash(record) !== record.hash) {
      const sealedAt = sealedPosition(record);
      if (sealedAt !== null) report('REORDERED', seq, `position ${seq} holds the record sealed at position ${sealedAt} (moved)`);
      else report('EDITED', seq, `record ${seq} was edited: its content no longer matches its hash`);
      flagged = true;
    } else if (!flagged && !previousFlagged && record.prev !== lastHash) {
      const linked = byStoredHash.get(record.prev);
      if (linked) report('REORDERED', seq, `record ${seq} follows record ${linked.seq} in the chain, not record ${seq - 1}`);
      else report('EDITED', seq - 1, `record ${seq - 1} was rewritten: record ${seq} recorded another hash for it`);
      flagged = true;
    }
    const checkpoint = signed.get(seq);
    if (checkpoint && checkpoint.hash !== record.hash && !flagged) {
      report('EDITED', seq, `record ${seq} was rewritten: the checkpoint signed another hash for it`);
      flagged = true;
    }
    previousFlagged = flagged;
    lastHash = record.hash;
    expected = seq + 1;
  }

  const lastSeq = records.at(-1)?.seq ?? -1;
  for (const checkpoint of signed.values()) {
    if (checkpoint.seq > lastSeq && checkpoint.seq !== prunedThrough) {
      report('DELETED', lastSeq + 1, `records ${lastSeq + 1}..${checkpoint.seq} are missing: a checkpoint signed the chain through ${checkpoint.seq}`);
      break;
    }
  }
  const signedThrough = signed.size > 0 ? Math.max(...signed.keys()) : null;
  return {
    chain,
    instance,
    keyId,
    records: records.length,
    signedThrough,
    unsignedTail: Math.max(0, lastSeq - (signedThrough ?? -1)),
    prunedThrough,
  };
}

export function verifyAccessLog(input: VerificationInput): VerificationReport {
  const records = group(input.records);
  const checkpoints = group(input.checkpoints);
  const prunes = new Map([...input.prunes].map((mark) => [mark.chain, mark]));
  const chainIds = [...new Set([...records.keys(), ...checkpoints.keys(), ...prunes.keys()])].sort();
  const problems: VerificationProblem[] = [];
  const chains = chainIds.map((chain) => verifyChain(chain, records.get(chain) ?? [], checkpoints.get(chain) ?? [], prunes.get(chain), input.trustedKeys, problems));

  // Each chain names the previous chain of its instance: a chain removed whole is missed there.
  const known = new Set(chainIds);
  for (const list of records.values()) {
    for (const record of list) {
      if (record.kind !== 'CHAIN_START' || !record.previous) continue;
      const { chain, seq, hash } = record.previous;
      if (!known.has(chain)) {
        problems.push({ kind: 'DELETED', chain, instance: record.instance, seq: null, message: `chain ${chain} is missing: chain ${record.chain} of instance ${record.instance} follows it` });
        continue;
      }
      const last = records.get(chain)?.find((candidate) => candidate.seq === seq && candidate._id === recordId(chain, seq));
      if (last && last.hash !== hash) {
        problems.push({ kind: 'EDITED', chain, instance: record.instance, seq, message: `record ${seq} of chain ${chain} was rewritten: chain ${record.chain} recorded another hash for it` });
      }
    }
  }
  problems.sort((a, b) => (a.chain === b.chain ? (a.seq ?? -1) - (b.seq ?? -1) : a.chain < b.chain ? -1 : 1));
  return { ok: problems.length === 0, chains, problems };
}

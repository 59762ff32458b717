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
 * - BAD_PRUNE: a prune mark the audit key did not sign, whose anchor does not hold, or that
 *   removed records younger than the retention period (the records it claims are then DELETED);
 * - BAD_WITNESS: a witness statement the audit key did not sign;
 * - UNTRUSTED_KEY: a chain signed by a key not among the trusted keys given.
 *
 * The set of chains: each chain start names the last record of its instance's previous chain, so
 * a chain deleted whole, or cut short, is named by its successor; and the witness statements
 * (witness.ts) name every chain head the privacy office saw, so that the latest chain of an
 * instance, or the tail of one, deleted after it was witnessed is named too.
 *
 * Records after a chain's last checkpoint are linked but not yet signed: reported as the
 * chain's unsigned tail, not as a problem (a running gateway always has one, for at most the
 * checkpoint interval).
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { AuditKey } from './keys.ts';
import {
  GENESIS_HASH,
  auditPayload,
  checkpointPayload,
  recordHash,
  recordId,
  type AccessLogRecord,
  type Checkpoint,
  type PruneMark,
  type WitnessStatement,
  type WitnessedHead,
} from './record.ts';

export type ProblemKind =
  'EDITED' | 'DELETED' | 'INSERTED' | 'REORDERED' | 'BAD_CHECKPOINT' | 'BAD_PRUNE' | 'BAD_WITNESS' | 'UNTRUSTED_KEY';

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
  /** The last position a valid witness statement names, or null if none does. */
  witnessedThrough: number | null;
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
  /** The privacy office's audit key: prune marks and witness statements must carry its signature. */
  auditKey?: AuditKey | null;
  /** The witness statements (witness.ts), oldest first. */
  witness?: readonly WitnessStatement[];
  /** The retention period in days: a prune of records younger than this is refused. */
  retentionDays?: number;
  /** The moment of verification (tests pass one). */
  now?: Date;
}

const DAY_MS = 86_400_000;

/** Why a prune mark does not hold, or undefined when it does. */
function pruneFault(prune: PruneMark, anchor: Checkpoint | undefined, input: VerificationInput): string | undefined {
  const range = `records 1..${prune.throughSeq} are marked as pruned`;
  if (!input.auditKey)
    return `${range}, but no audit public key was given to check the mark (set CREDENCE_AUDIT_PUBLIC_KEY)`;
  if (
    prune.keyId !== input.auditKey.keyId ||
    typeof prune.signature !== 'string' ||
    !input.auditKey.verify(auditPayload(prune), prune.signature)
  ) {
    return `${range}, but the mark does not carry a valid signature of the audit key ${input.auditKey.keyId} (forged)`;
  }
  if (!anchor || anchor.hash !== prune.anchorHash)
    return `${range}, but no valid checkpoint at ${prune.throughSeq} anchors the rest of the chain`;
  const retentionDays = Math.max(prune.retentionDays, input.retentionDays ?? 0);
  const now = input.now ?? new Date();
  const prunedAt = new Date(Math.min(new Date(prune.prunedAt).getTime(), now.getTime()));
  if (new Date(anchor.at).getTime() > prunedAt.getTime() - retentionDays * DAY_MS) {
    return `${range}, but they were signed at ${new Date(anchor.at).toISOString()}, younger than the retention period of ${retentionDays} day(s) when pruned at ${prunedAt.toISOString()}`;
  }
  return undefined;
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
  input: VerificationInput,
  problems: VerificationProblem[],
): ChainSummary {
  const { trustedKeys } = input;
  const start = stored.find(
    (record) => record.seq === 0 && record.kind === 'CHAIN_START' && record._id === recordId(chain, 0),
  );
  const instance = start?.instance ?? stored[0]?.instance ?? 'unknown';
  const report = (kind: ProblemKind, seq: number | null, message: string): void =>
    void problems.push({ kind, chain, instance, seq, message });

  // Two records claiming one position: the one a gateway wrote has the position's id.
  const bySeq = new Map<number, AccessLogRecord[]>();
  for (const record of stored) bySeq.set(record.seq, [...(bySeq.get(record.seq) ?? []), record]);
  const records: AccessLogRecord[] = [];
  for (const [seq, claimants] of [...bySeq].sort(([a], [b]) => a - b)) {
    for (const record of claimants) {
      if (record._id !== recordId(chain, seq)) {
        report(
          'INSERTED',
          seq,
          `record ${record._id} claims position ${seq} of chain ${chain} but no gateway wrote it there (its id does not match its position)`,
        );
      } else {
        records.push(record);
      }
    }
  }

  // The chain's key: from its start record (hash-protected, and signed by its first checkpoint).
  let key: KeyObject | null = null;
  let keyId: string | null = null;
  if (!start) {
    report(
      'DELETED',
      0,
      "the chain start (position 0, with the instance's public key) is missing; its checkpoints cannot be checked",
    );
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
        valid = verifySignature(
          null,
          checkpointPayload(checkpoint),
          key,
          Buffer.from(checkpoint.signature, 'base64url'),
        );
      } catch {
        valid = false;
      }
    }
    if (valid) signed.set(checkpoint.seq, checkpoint);
    else if (key)
      report(
        'BAD_CHECKPOINT',
        checkpoint.seq,
        `the checkpoint at position ${checkpoint.seq} does not carry a valid signature of the chain's key ${keyId}`,
      );
  }

  // Retention removed positions 1..throughSeq; the signed checkpoint there is where the chain resumes.
  let prunedThrough: number | null = null;
  let expected = 0;
  let lastHash = GENESIS_HASH;
  let previousFlagged = false;
  if (prune) {
    const fault = pruneFault(prune, signed.get(prune.throughSeq), input);
    if (fault) report('BAD_PRUNE', 1, fault);
    else prunedThrough = prune.throughSeq;
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
      report(
        'DELETED',
        expected,
        expected === seq - 1 ? `record ${expected} is missing` : `records ${expected}..${seq - 1} are missing`,
      );
      flagged = true;
    }
    if (recordHash(record) !== record.hash) {
      const sealedAt = sealedPosition(record);
      if (sealedAt !== null)
        report('REORDERED', seq, `position ${seq} holds the record sealed at position ${sealedAt} (moved)`);
      else report('EDITED', seq, `record ${seq} was edited: its content no longer matches its hash`);
      flagged = true;
    } else if (!flagged && !previousFlagged && record.prev !== lastHash) {
      const linked = byStoredHash.get(record.prev);
      if (linked)
        report('REORDERED', seq, `record ${seq} follows record ${linked.seq} in the chain, not record ${seq - 1}`);
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
      report(
        'DELETED',
        lastSeq + 1,
        `records ${lastSeq + 1}..${checkpoint.seq} are missing: a checkpoint signed the chain through ${checkpoint.seq}`,
      );
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
    witnessedThrough: null,
  };
}

/** The last position of each chain that a validly signed witness statement names. */
function witnessedHeads(
  input: VerificationInput,
  problems: VerificationProblem[],
): Map<string, WitnessedHead & { at: Date }> {
  const heads = new Map<string, WitnessedHead & { at: Date }>();
  for (const [index, statement] of (input.witness ?? []).entries()) {
    const valid =
      input.auditKey !== undefined &&
      input.auditKey !== null &&
      statement.keyId === input.auditKey.keyId &&
      typeof statement.signature === 'string' &&
      input.auditKey.verify(auditPayload(statement), statement.signature);
    if (!valid) {
      const why = input.auditKey
        ? `does not carry a valid signature of the audit key ${input.auditKey.keyId}`
        : 'cannot be checked: no audit public key was given (set CREDENCE_AUDIT_PUBLIC_KEY)';
      problems.push({
        kind: 'BAD_WITNESS',
        chain: '-',
        instance: '-',
        seq: null,
        message: `witness statement ${index + 1} (${new Date(statement.at).toISOString()}) ${why}`,
      });
      continue;
    }
    for (const head of statement.heads) {
      const known = heads.get(head.chain);
      if (!known || head.seq > known.seq) heads.set(head.chain, { ...head, at: new Date(statement.at) });
    }
  }
  return heads;
}

export function verifyAccessLog(input: VerificationInput): VerificationReport {
  const records = group(input.records);
  const checkpoints = group(input.checkpoints);
  const prunes = new Map([...input.prunes].map((mark) => [mark.chain, mark]));
  const chainIds = [...new Set([...records.keys(), ...checkpoints.keys(), ...prunes.keys()])].sort();
  const problems: VerificationProblem[] = [];
  const chains = chainIds.map((chain) =>
    verifyChain(chain, records.get(chain) ?? [], checkpoints.get(chain) ?? [], prunes.get(chain), input, problems),
  );
  const summaries = new Map(chains.map((summary) => [summary.chain, summary]));

  /** A chain's end as its successor or a witness recorded it: still there, with that hash, or pruned legitimately. */
  const checkEnd = (end: WitnessedHead, by: string): void => {
    const { chain, seq, hash, instance } = end;
    const summary = summaries.get(chain);
    if (!summary) {
      problems.push({
        kind: 'DELETED',
        chain,
        instance,
        seq: null,
        message: `chain ${chain} of instance ${instance} is missing: ${by} through position ${seq}`,
      });
      return;
    }
    if (summary.prunedThrough !== null && seq <= summary.prunedThrough) return;
    const list = records.get(chain) ?? [];
    const last = list.find((candidate) => candidate.seq === seq && candidate._id === recordId(chain, seq));
    if (last && last.hash !== hash) {
      problems.push({
        kind: 'EDITED',
        chain,
        instance,
        seq,
        message: `record ${seq} of chain ${chain} was rewritten: ${by} with another hash for it`,
      });
      return;
    }
    const lastSeq = list.reduce((max, record) => Math.max(max, record.seq), -1);
    if (!last && seq > lastSeq) {
      problems.push({
        kind: 'DELETED',
        chain,
        instance,
        seq: lastSeq + 1,
        message: `records ${lastSeq + 1}..${seq} are missing (the tail was cut): ${by} through position ${seq}`,
      });
    }
  };

  // Each chain names the previous chain of its instance: a chain removed whole, or cut short, is missed there.
  for (const list of records.values()) {
    for (const record of list) {
      if (record.kind !== 'CHAIN_START' || !record.previous) continue;
      checkEnd(
        { ...record.previous, instance: record.instance },
        `chain ${record.chain} of the same instance follows it`,
      );
    }
  }
  // The witness saw every chain head: the latest chain of an instance, and a cut tail, are missed there.
  for (const head of witnessedHeads(input, problems).values()) {
    checkEnd(head, `the witness saw it at ${head.at.toISOString()}`);
    const summary = summaries.get(head.chain);
    if (summary) summary.witnessedThrough = head.seq;
  }

  // One problem per kind and place, whichever check found it first.
  const seen = new Set<string>();
  const distinct = problems.filter(({ kind, chain, seq }) => {
    const key = `${kind}|${chain}|${seq ?? '-'}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  distinct.sort((a, b) => (a.chain === b.chain ? (a.seq ?? -1) - (b.seq ?? -1) : a.chain < b.chain ? -1 : 1));
  return { ok: distinct.length === 0, chains, problems: distinct };
}

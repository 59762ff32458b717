/**
 * The access log's pure parts: which subjects a request touched (aliases cannot hide a code or
 * pass something off as one), canonical hashing, and verification cases the end-to-end test does
 * not reach: a truncated chain, a whole chain removed, a chain signed by an untrusted key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'graphql';
import { touchedSubjects } from '../gateway/access-log.ts';
import { loadAuditKey, loadAuditSigner, loadCheckpointSigner } from '../lib/access-log/keys.ts';
import { witnessStatement } from '../lib/access-log/witness.ts';
import {
  GENESIS_HASH,
  auditPayload,
  canonicalJson,
  checkpointPayload,
  recordHash,
  recordId,
  type AccessLogRecord,
  type ChainTail,
  type Checkpoint,
  type LogBody,
  type PruneMark,
} from '../lib/access-log/record.ts';
import { verifyAccessLog } from '../lib/access-log/verify.ts';
import { generateAssertionKeyPair } from '../lib/identity/assertion.ts';

const A = '91110000600037341L';
const B = '914201060001CLJU0L';

describe('the subjects a request touched', () => {
  it('reads codes from arguments (literal, variable, inside inputs) and from uscc fields of the answer, through aliases and fragments', () => {
    const document = parse(`query Q($code: ID!, $input: Filter) {
      one: subject(uscc: $code) { code: uscc name }
      list: subjects(first: 2) { ...Codes }
      log: accessLog(filter: $input) { records { id } }
    }
    fragment Codes on Subject { ... on Subject { uscc } }`);
    const data = { one: { code: A, name: 'x' }, list: [{ uscc: B }, { uscc: 'C-CODE' }], log: { records: [] } };
    assert.deepEqual(
      touchedSubjects(document, 'Q', { code: A, input: { subject: 'D-CODE' } }, data),
      [A, B, 'C-CODE', 'D-CODE'].sort(),
    );
  });

  it('reads the arguments of fields under a list, and the codes of every item of it', () => {
    const document = parse(`query Q($other: ID!) {
      subjects(first: 3) { uscc related(subject: $other) { code: uscc } }
    }`);
    const data = {
      subjects: [
        { uscc: A, related: [] },
        { uscc: B, related: [{ code: 'C-CODE' }] },
        { uscc: 'E-CODE', related: null },
      ],
    };
    assert.deepEqual(
      touchedSubjects(document, 'Q', { other: 'D-CODE' }, data),
      [A, B, 'C-CODE', 'D-CODE', 'E-CODE'].sort(),
    );
  });

  it('a variable nested 40,000 levels deep is read without overflowing the stack', () => {
    let deep: unknown = { uscc: A };
    for (let level = 0; level < 40_000; level++) deep = [deep];
    const document = parse('query Q($input: Filter) { accessLog(filter: $input) { records { id } } }');
    assert.deepEqual(touchedSubjects(document, 'Q', { input: deep }, null), [A]);
  });

  it('an alias named uscc on another field is not taken for a code', () => {
    const document = parse('{ subject(uscc: "91110000600037341L") { uscc: name } }');
    assert.deepEqual(touchedSubjects(document, undefined, {}, { subject: { uscc: '某某公司' } }), [A]);
  });
});

describe('canonical hashing', () => {
  it('does not depend on key order, and dates hash as their ISO form', () => {
    const at = new Date('2026-11-27T08:00:00.000Z');
    assert.equal(
      canonicalJson({ b: 1, a: [{ d: 2, c: at }] }),
      canonicalJson({ a: [{ c: '2026-11-27T08:00:00.000Z', d: 2 }], b: 1 }),
    );
  });
});

/** A chain as a gateway writes it, in memory, with checkpoints at the given positions. */
function buildChain(
  chain: string,
  size: number,
  checkpointsAt: number[],
  previous: ChainTail | null = null,
  keyPem?: string,
) {
  const signer = loadCheckpointSigner(keyPem ? { CREDENCE_ACCESS_LOG_PRIVATE_KEY: keyPem } : {});
  const records: AccessLogRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 0; seq < size; seq++) {
    const at = new Date(Date.UTC(2026, 10, 27, 8, 0, seq));
    const body: LogBody =
      seq === 0
        ? { kind: 'CHAIN_START', at, keyId: signer.keyId, publicKey: signer.publicKeyPem, previous }
        : {
            kind: 'ACCESS',
            at,
            requestId: `r${seq}`,
            consumer: 'central-bank',
            purpose: 'CREDIT_ASSESSMENT',
            policyVersion: 'v1',
            operationName: null,
            operationHash: 'h',
            outcome: 'ANSWERED',
            fields: ['Query.subject'],
            subjects: [A],
            deniedFields: [],
            maskedFields: [],
            durationMs: 3,
          };
    const unsealed = { ...body, chain, seq, instance: 'gw', prev } as Omit<AccessLogRecord, '_id' | 'hash'>;
    const hash = recordHash(unsealed);
    records.push({ _id: recordId(chain, seq), ...unsealed, hash } as AccessLogRecord);
    prev = hash;
  }
  const checkpoints: Checkpoint[] = checkpointsAt.map((seq) => {
    const unsigned = {
      chain,
      seq,
      hash: records[seq]?.hash ?? '',
      at: new Date(Date.UTC(2026, 10, 27, 9)),
      keyId: signer.keyId,
    };
    return { _id: recordId(chain, seq), ...unsigned, signature: signer.sign(checkpointPayload(unsigned)) };
  });
  return { records, checkpoints, signer };
}

describe('verification', () => {
  it('a clean chain verifies, with its unsigned tail counted', () => {
    const { records, checkpoints } = buildChain('c1', 10, [4, 8]);
    const report = verifyAccessLog({ records, checkpoints, prunes: [] });
    assert.deepEqual(report.problems, []);
    assert.equal(report.chains[0]?.signedThrough, 8);
    assert.equal(report.chains[0]?.unsignedTail, 1);
  });

  it('records cut off the end of a chain are named when a checkpoint signed them', () => {
    const { records, checkpoints } = buildChain('c1', 10, [4, 8]);
    const report = verifyAccessLog({ records: records.slice(0, 7), checkpoints, prunes: [] });
    assert.deepEqual(
      report.problems.map(({ kind, seq }) => [kind, seq]),
      [['DELETED', 7]],
    );
    assert.match(report.problems[0]?.message ?? '', /records 7\.\.8 are missing/);
  });

  it('a chain removed whole is named by the chain that followed it on the same instance', () => {
    const first = buildChain('c1', 5, [4]);
    const last = first.records.at(-1);
    assert.ok(last);
    const second = buildChain('c2', 3, [2], { chain: 'c1', seq: last.seq, hash: last.hash });
    assert.deepEqual(
      verifyAccessLog({
        records: [...first.records, ...second.records],
        checkpoints: [...first.checkpoints, ...second.checkpoints],
        prunes: [],
      }).problems,
      [],
    );
    const report = verifyAccessLog({ records: second.records, checkpoints: second.checkpoints, prunes: [] });
    assert.deepEqual(
      report.problems.map(({ kind, chain }) => [kind, chain]),
      [['DELETED', 'c1']],
    );
  });

  it('a chain rewritten and re-signed with another key passes on its own key but not against the trusted keys', () => {
    const genuine = generateAssertionKeyPair();
    const { records, checkpoints, signer } = buildChain('c1', 6, [5], null, generateAssertionKeyPair().privateKeyPem);
    assert.equal(verifyAccessLog({ records, checkpoints, prunes: [] }).ok, true);
    const report = verifyAccessLog({
      records,
      checkpoints,
      prunes: [],
      trustedKeys: { [genuine.keyId]: genuine.publicKeyPem },
    });
    assert.deepEqual(
      report.problems.map(({ kind, seq }) => [kind, seq]),
      [['UNTRUSTED_KEY', 0]],
    );
    assert.equal(
      verifyAccessLog({ records, checkpoints, prunes: [], trustedKeys: { [signer.keyId]: signer.publicKeyPem } }).ok,
      true,
    );
  });
});

describe('the set of chains, prunes and the witness', () => {
  const auditPair = generateAssertionKeyPair();
  const auditEnv = { CREDENCE_AUDIT_PRIVATE_KEY: auditPair.privateKeyPem };
  const auditKey = loadAuditKey(auditEnv);
  const auditSigner = loadAuditSigner(auditEnv);

  it('a chain cut short after its last checkpoint is named by the chain that followed it', () => {
    const first = buildChain('c1', 8, [4]);
    const last = first.records.at(-1);
    assert.ok(last);
    const second = buildChain('c2', 3, [2], { chain: 'c1', seq: last.seq, hash: last.hash });
    const report = verifyAccessLog({
      records: [...first.records.slice(0, 6), ...second.records],
      checkpoints: [...first.checkpoints, ...second.checkpoints],
      prunes: [],
    });
    assert.deepEqual(
      report.problems.map(({ kind, chain, seq }) => [kind, chain, seq]),
      [['DELETED', 'c1', 6]],
    );
    assert.match(report.problems[0]?.message ?? '', /records 6\.\.7 are missing \(the tail was cut\)/);
  });

  it('the latest chain deleted whole, and a tail cut, are named once a witness saw them', () => {
    const { records, checkpoints } = buildChain('c1', 8, [4]);
    const witness = [witnessStatement({ records, checkpoints, prunes: [] }, auditSigner)];
    assert.deepEqual(verifyAccessLog({ records, checkpoints, prunes: [], witness, auditKey }).problems, []);
    const gone = verifyAccessLog({ records: [], checkpoints: [], prunes: [], witness, auditKey });
    assert.deepEqual(
      gone.problems.map(({ kind, chain, seq }) => [kind, chain, seq]),
      [['DELETED', 'c1', null]],
    );
    const cut = verifyAccessLog({ records: records.slice(0, 6), checkpoints, prunes: [], witness, auditKey });
    assert.deepEqual(
      cut.problems.map(({ kind, seq }) => [kind, seq]),
      [['DELETED', 6]],
    );
  });

  it('a witness statement not signed by the audit key is BAD_WITNESS and witnesses nothing', () => {
    const { records, checkpoints } = buildChain('c1', 5, [4]);
    const forged = witnessStatement({ records, checkpoints, prunes: [] }, loadCheckpointSigner({}));
    const report = verifyAccessLog({ records: [], checkpoints: [], prunes: [], witness: [forged], auditKey });
    assert.deepEqual(
      report.problems.map(({ kind }) => kind),
      ['BAD_WITNESS'],
    );
  });

  it('a prune is honoured only when the audit key signed it and its records are older than the retention period', () => {
    const { records, checkpoints } = buildChain('c1', 10, [4, 8]);
    const anchor = checkpoints[1];
    assert.ok(anchor);
    const kept = records.filter(({ seq }) => seq === 0 || seq > 8);
    const mark = (signer: typeof auditSigner, retentionDays: number, prunedAt: Date): PruneMark => {
      const unsigned = {
        chain: 'c1',
        throughSeq: 8,
        anchorHash: anchor.hash,
        anchorAt: anchor.at,
        retentionDays,
        prunedAt,
        keyId: signer.keyId,
      };
      return { _id: 'c1', ...unsigned, signature: signer.sign(auditPayload(unsigned)) };
    };
    const later = new Date(anchor.at.getTime() + 40 * 86_400_000);
    const honoured = verifyAccessLog({
      records: kept,
      checkpoints: [anchor],
      prunes: [mark(auditSigner, 30, later)],
      auditKey,
      retentionDays: 30,
      now: later,
    });
    assert.deepEqual(honoured.problems, []);
    assert.equal(honoured.chains[0]?.prunedThrough, 8);

    const kinds = (prune: PruneMark, retentionDays = 30) =>
      verifyAccessLog({
        records: kept,
        checkpoints: [anchor],
        prunes: [prune],
        auditKey,
        retentionDays,
        now: later,
      }).problems.map(({ kind, seq }) => [kind, seq]);
    assert.deepEqual(
      kinds(mark(loadCheckpointSigner({}), 30, later)),
      [
        ['BAD_PRUNE', 1],
        ['DELETED', 1],
      ],
      'signed by another key',
    );
    assert.deepEqual(
      kinds(mark(auditSigner, 30, later), 60),
      [
        ['BAD_PRUNE', 1],
        ['DELETED', 1],
      ],
      'younger than the retention period verify applies',
    );
    assert.deepEqual(
      kinds(mark(auditSigner, 0, new Date(anchor.at.getTime() + 600_000)), 30),
      [
        ['BAD_PRUNE', 1],
        ['DELETED', 1],
      ],
      'records ten minutes old',
    );
    assert.deepEqual(
      verifyAccessLog({
        records: kept,
        checkpoints: [anchor],
        prunes: [mark(auditSigner, 30, later)],
        now: later,
      }).problems.map(({ kind }) => kind),
      ['BAD_PRUNE', 'DELETED'],
      'no audit key to check it against',
    );
  });
});

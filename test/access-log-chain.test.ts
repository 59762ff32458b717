/**
 * The access log's pure parts: which subjects a request touched (aliases cannot hide a code or
 * pass something off as one), canonical hashing, and verification cases the end-to-end test does
 * not reach: a truncated chain, a whole chain removed, a chain signed by an untrusted key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'graphql';
import { touchedSubjects } from '../gateway/access-log.ts';
import { loadCheckpointSigner } from '../lib/access-log/keys.ts';
import {
  GENESIS_HASH, canonicalJson, checkpointPayload, recordHash, recordId,
  type AccessLogRecord, type ChainTail, type Checkpoint, type LogBody,
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
    assert.deepEqual(touchedSubjects(document, 'Q', { code: A, input: { subject: 'D-CODE' } }, data), [A, B, 'C-CODE', 'D-CODE'].sort());
  });

  it('reads the arguments of fields under a list, and the codes of every item of it', () => {
    const document = parse(`query Q($other: ID!) {
      subjects(first: 3) { uscc related(subject: $other) { code: uscc } }
    }`);
    const data = { subjects: [{ uscc: A, related: [] }, { uscc: B, related: [{ code: 'C-CODE' }] }, { uscc: 'E-CODE', related: null }] };
    assert.deepEqual(touchedSubjects(document, 'Q', { other: 'D-CODE' }, data), [A, B, 'C-CODE', 'D-CODE', 'E-CODE'].sort());
  });

  it('an alias named uscc on another field is not taken for a code', () => {
    const document = parse('{ subject(uscc: "91110000600037341L") { uscc: name } }');
    assert.deepEqual(touchedSubjects(document, undefined, {}, { subject: { uscc: '某某公司' } }), [A]);
  });
});

describe('canonical hashing', () => {
  it('does not depend on key order, and dates hash as their ISO form', () => {
    const at = new Date('2026-11-27T08:00:00.000Z');
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: at }] }), canonicalJson({ a: [{ c: '2026-11-27T08:00:00.000Z', d: 2 }], b: 1 }));
  });
});

/** A chain as a gateway writes it, in memory, with checkpoints at the given positions. */
function buildChain(chain: string, size: number, checkpointsAt: number[], previous: ChainTail | null = null, keyPem?: string) {
  const signer = loadCheckpointSigner(keyPem ? { CREDENCE_ACCESS_LOG_PRIVATE_KEY: keyPem } : {});
  const records: AccessLogRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 0; seq < size; seq++) {
    const at = new Date(Date.UTC(2026, 10, 27, 8, 0, seq));
    const body: LogBody = seq === 0
      ? { kind: 'CHAIN_START', at, keyId: signer.keyId, publicKey: signer.publicKeyPem, previous }
      : { kind: 'ACCESS', at, requestId: `r${seq}`, consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT', policyVersion: 'v1', operationName: null, operationHash: 'h', outcome: 'ANSWERED', fields: ['Query.subject'], subjects: [A], deniedFields: [], maskedFields: [], durationMs: 3 };
    const unsealed = { ...body, chain, seq, instance: 'gw', prev } as Omit<AccessLogRecord, '_id' | 'hash'>;
    const hash = recordHash(unsealed);
    records.push({ _id: recordId(chain, seq), ...unsealed, hash } as AccessLogRecord);
    prev = hash;
  }
  const checkpoints: Checkpoint[] = checkpointsAt.map((seq) => {
    const unsigned = { chain, seq, hash: records[seq]?.hash ?? '', at: new Date(Date.UTC(2026, 10, 27, 9)), keyId: signer.keyId };
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
    assert.deepEqual(report.problems.map(({ kind, seq }) => [kind, seq]), [['DELETED', 7]]);
    assert.match(report.problems[0]?.message ?? '', /records 7\.\.8 are missing/);
  });

  it('a chain removed whole is named by the chain that followed it on the same instance', () => {
    const first = buildChain('c1', 5, [4]);
    const last = first.records.at(-1);
    assert.ok(last);
    const second = buildChain('c2', 3, [2], { chain: 'c1', seq: last.seq, hash: last.hash });
    assert.deepEqual(verifyAccessLog({ records: [...first.records, ...second.records], checkpoints: [...first.checkpoints, ...second.checkpoints], prunes: [] }).problems, []);
    const report = verifyAccessLog({ records: second.records, checkpoints: second.checkpoints, prunes: [] });
    assert.deepEqual(report.problems.map(({ kind, chain }) => [kind, chain]), [['DELETED', 'c1']]);
  });

  it('a chain rewritten and re-signed with another key passes on its own key but not against the trusted keys', () => {
    const genuine = generateAssertionKeyPair();
    const { records, checkpoints, signer } = buildChain('c1', 6, [5], null, generateAssertionKeyPair().privateKeyPem);
    assert.equal(verifyAccessLog({ records, checkpoints, prunes: [] }).ok, true);
    const report = verifyAccessLog({ records, checkpoints, prunes: [], trustedKeys: { [genuine.keyId]: genuine.publicKeyPem } });
    assert.deepEqual(report.problems.map(({ kind, seq }) => [kind, seq]), [['UNTRUSTED_KEY', 0]]);
    assert.equal(verifyAccessLog({ records, checkpoints, prunes: [], trustedKeys: { [signer.keyId]: signer.publicKeyPem } }).ok, true);
  });
});

/**
 * The access log end to end (issue 5), on real FerretDB, real Redis and real servers: one
 * record per answered request, written before the answer; the privacy office's queries; fail
 * closed while the store is unreachable and recovery without a restart; tampering of each kind
 * detected and named by `npm run audit -- verify` (and by `verify --file` on an export); and
 * retention that keeps the log verifiable.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import { recordHash, recordId, type AccessLogRecord } from '../lib/access-log/record.ts';
import { readAccessLog } from '../lib/access-log/maintenance.ts';
import { verifyAccessLog } from '../lib/access-log/verify.ts';
import { checkpointPayload, type Checkpoint, type PruneMark } from '../lib/access-log/record.ts';
import { generateAssertionKeyPair } from '../lib/identity/assertion.ts';
import { loadCheckpointSigner } from '../lib/access-log/keys.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Caller, type Federation, type GraphQLResponse } from './support/federation.ts';
import { addPurposeSeeingEverything, publishPolicyChange } from './support/policy-change.ts';

const run = promisify(execFile);

/** The privacy office's audit key (signs witness statements and prunes) and its witness file, for the audit commands. */
const auditKeys = generateAssertionKeyPair();
const witnessDir = await mkdtemp(join(tmpdir(), 'credence-witness-'));
const AUDIT_ENV = {
  CREDENCE_AUDIT_PRIVATE_KEY: auditKeys.privateKeyPem,
  CREDENCE_AUDIT_PUBLIC_KEY: auditKeys.publicKeyPem,
  ACCESS_LOG_WITNESS_FILE: join(witnessDir, 'witness.jsonl'),
};

const CENTRAL_BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
const COURT: Caller = { consumer: 'court-enforcement', purpose: 'ENFORCEMENT' };
const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const TAX: Caller = { consumer: 'tax-bureau', purpose: 'TAX_ADMINISTRATION' };
const PRIVACY_OFFICE: Caller = { consumer: 'privacy-office', purpose: 'AUDIT' };

const requestIdOf = (response: GraphQLResponse): string =>
  String(
    (response.body as { extensions?: { credence?: { requestId?: string } } }).extensions?.credence?.requestId ?? '',
  );

/** `npm run audit -- <args>` against this test's store; exit code and output. */
async function audit(federation: Federation, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['scripts/audit.ts', ...args], {
      env: { ...process.env, MONGODB_URI: federation.mongo.uri, ...AUDIT_ENV },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

describe('the access log', () => {
  let federation: Federation;
  let store: AccessLogCollections;
  /** Every request id answered with data in this file: each must be in the log. */
  const answered = new Set<string>();
  const ask = async (query: string, caller: Caller, variables?: Record<string, unknown>): Promise<GraphQLResponse> => {
    const response = await federation.query(query, variables, caller);
    if (response.body.data) answered.add(requestIdOf(response));
    return response;
  };
  const recordOf = async (requestId: string): Promise<AccessLogRecord | null> => store.records.findOne({ requestId });

  before(async () => {
    federation = await startFederation({
      subjects: 40,
      accessLogThroughProxy: true,
      accessLog: { checkpointEvery: 4, checkpointIntervalMs: 60_000, writeTimeoutMs: 1500 },
    });
    store = await connectAccessLogStore(federation.mongo.uri);
    // Fields these consumers are denied under their own purpose then exist for them (they may see
    // them under a second one): asked for, they are refused by policy and recorded so.
    await addPurposeSeeingEverything(federation.policiesDir, [
      'central-bank',
      'public-portal',
      'court-enforcement',
      'tax-bureau',
    ]);
    await publishPolicyChange(federation);
  });
  after(async () => {
    await store?.close();
    await federation?.close();
    await rm(witnessDir, { recursive: true, force: true });
  });

  it('records each answered request before its answer: consumer, purpose, policy version, operation, fields per type, subjects, outcome', async () => {
    const uscc = seedSubject(1).uscc;
    const response = await ask(
      `query Lookup($code: ID!) { subject(uscc: $code) { uscc name legalRepresentative { name } } }`,
      CENTRAL_BANK,
      { code: uscc },
    );
    assert.equal(response.status, 200);
    // Durable before the answer: the record is there the moment the answer arrives.
    const record = await recordOf(requestIdOf(response));
    assert.ok(record && record.kind === 'ACCESS', 'the record is stored');
    assert.equal(record.consumer, 'central-bank');
    assert.equal(record.purpose, 'CREDIT_ASSESSMENT');
    assert.equal(record.policyVersion, federation.policies.current().version);
    assert.equal(record.operationName, 'Lookup');
    assert.match(record.operationHash, /^[0-9a-f]{64}$/);
    assert.equal(record.outcome, 'ANSWERED');
    assert.deepEqual(record.fields, [
      'LegalRepresentative.name',
      'Query.subject',
      'Subject.legalRepresentative',
      'Subject.name',
      'Subject.uscc',
    ]);
    assert.deepEqual(record.subjects, [uscc]);
    assert.deepEqual(record.deniedFields, []);
    assert.equal(record.chain, federation.accessLog.writer.chain);
  });

  it('names the subjects of an answer that did not ask for their codes, without adding them to the answer', async () => {
    const response = await ask('{ subjects(first: 3) { name } }', CENTRAL_BANK);
    assert.equal(response.status, 200);
    const listed = response.body.data?.subjects as Record<string, unknown>[];
    assert.equal(listed.length, 3);
    assert.ok(
      listed.every((subject) => Object.keys(subject).join() === 'name'),
      'only what was asked for',
    );
    const codes = (
      (await ask('{ subjects(first: 3) { uscc } }', CENTRAL_BANK)).body.data?.subjects as { uscc: string }[]
    ).map(({ uscc }) => uscc);
    const record = await recordOf(requestIdOf(response));
    assert.ok(record && record.kind === 'ACCESS');
    assert.deepEqual(record.subjects, [...codes].sort());
    assert.deepEqual(record.fields, ['Query.subjects', 'Subject.name']);
  });

  it('records a request refused by policy with its denied fields, and a masked field as masked', async () => {
    const uscc = seedSubject(1).uscc;
    const refused = await ask(`{ subject(uscc: "${uscc}") { name legalRepresentative { phone } } }`, CENTRAL_BANK);
    assert.equal(refused.status, 403);
    const rejected = await recordOf(requestIdOf(refused));
    assert.ok(rejected && rejected.kind === 'ACCESS');
    assert.equal(rejected.outcome, 'REJECTED');
    assert.deepEqual(rejected.fields, []);
    assert.deepEqual(rejected.deniedFields, ['LegalRepresentative.phone']);

    const masked = await ask(`{ subject(uscc: "${uscc}") { name legalRepresentative { idNumber phone } } }`, PORTAL);
    const record = await recordOf(requestIdOf(masked));
    assert.ok(record && record.kind === 'ACCESS');
    assert.equal(record.outcome, 'PARTIAL', 'filter mode: the phone is null with a FORBIDDEN error');
    assert.deepEqual(record.maskedFields, ['LegalRepresentative.idNumber']);
    assert.deepEqual(record.deniedFields, ['LegalRepresentative.phone']);
    assert.ok(
      record.fields.includes('LegalRepresentative.idNumber') && !record.fields.includes('LegalRepresentative.phone'),
    );
  });

  it('a subject queried by three consumers: the subject access report shows exactly those accesses', async () => {
    const uscc = seedSubject(7).uscc;
    const other = seedSubject(8).uscc;
    const byConsumer = new Map<string, { requestId: string; fields: string[] }>();
    for (const [caller, selection, fields] of [
      [
        CENTRAL_BANK,
        'name administrativePenalties { decisionNumber }',
        ['AdministrativePenalty.decisionNumber', 'Query.subject', 'Subject.administrativePenalties', 'Subject.name'],
      ],
      [
        COURT,
        'name legalRepresentative { name phone }',
        [
          'LegalRepresentative.name',
          'LegalRepresentative.phone',
          'Query.subject',
          'Subject.legalRepresentative',
          'Subject.name',
        ],
      ],
      [PORTAL, 'name status', ['Query.subject', 'Subject.name', 'Subject.status']],
    ] as const) {
      const response = await ask(`{ subject(uscc: "${uscc}") { ${selection} } }`, caller);
      assert.equal(response.status, 200, `${caller.consumer} answered`);
      byConsumer.set(caller.consumer, { requestId: requestIdOf(response), fields: [...fields] });
    }
    // Another subject, another consumer: not in this subject's report.
    await ask(`{ subject(uscc: "${other}") { name } }`, TAX);
    // One request about both subjects: in this subject's report, without naming the other one.
    const both = await ask(
      `{ mine: subject(uscc: "${uscc}") { name } theirs: subject(uscc: "${other}") { name } }`,
      CENTRAL_BANK,
    );
    const bothRecord = await recordOf(requestIdOf(both));
    assert.ok(bothRecord?.kind === 'ACCESS');
    assert.deepEqual(bothRecord.subjects, [uscc, other].sort(), 'the log itself records both');

    const report = await ask(
      `query Report($uscc: ID!) {
      subjectAccessReport(uscc: $uscc) { uscc consumers truncated accesses { consumer purpose requestId at fields { type fields } subjects } }
    }`,
      PRIVACY_OFFICE,
      { uscc },
    );
    assert.equal(report.status, 200);
    assert.equal(report.body.errors, undefined);
    const result = report.body.data?.subjectAccessReport as {
      uscc: string;
      consumers: string[];
      truncated: boolean;
      accesses: {
        consumer: string;
        purpose: string;
        requestId: string;
        at: string;
        fields: { type: string; fields: string[] }[];
        subjects: string[];
      }[];
    };
    assert.equal(result.uscc, uscc);
    assert.deepEqual(result.consumers, ['central-bank', 'court-enforcement', 'public-portal']);
    assert.equal(result.truncated, false);
    assert.deepEqual(
      result.accesses.map(({ consumer, purpose }) => [consumer, purpose]),
      [
        ['central-bank', 'CREDIT_ASSESSMENT'],
        ['court-enforcement', 'ENFORCEMENT'],
        ['public-portal', 'PUBLIC_DISCLOSURE'],
        ['central-bank', 'CREDIT_ASSESSMENT'],
      ],
      'oldest first, with the purpose each declared',
    );
    const last = result.accesses.at(-1);
    assert.equal(last?.requestId, requestIdOf(both));
    assert.deepEqual(last?.subjects, [uscc], 'a report about one subject names no other subject');
    for (const access of result.accesses.slice(0, 3)) {
      const expected = byConsumer.get(access.consumer);
      assert.equal(access.requestId, expected?.requestId);
      assert.deepEqual(
        access.fields.flatMap(({ type, fields }) => fields.map((field) => `${type}.${field}`)).sort(),
        expected?.fields,
      );
      assert.deepEqual(access.subjects, [uscc]);
      assert.ok(!Number.isNaN(Date.parse(access.at)));
    }

    // The report itself is an access, recorded like any other.
    const own = await recordOf(requestIdOf(report));
    assert.ok(own && own.kind === 'ACCESS');
    assert.equal(own.consumer, 'privacy-office');
    assert.deepEqual(own.subjects, [uscc]);
  });

  it('searches the log by consumer, purpose, subject, field and time, in pages', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const page = async (after: string | null) =>
      ask(
        `query Page($after: String, $since: DateTime) {
      accessLog(filter: { consumer: "central-bank", purpose: "CREDIT_ASSESSMENT", field: "Subject.name", from: $since }, first: 1, after: $after) {
        records { id consumer purpose fields { type fields } at } endCursor hasNextPage
      }
    }`,
        PRIVACY_OFFICE,
        { after, since },
      );
    // Page by page to the end: every matching record once, newest first.
    type Page = {
      records: { id: string; consumer: string; at: string; fields: { type: string; fields: string[] }[] }[];
      endCursor: string | null;
      hasNextPage: boolean;
    };
    const all: Page['records'] = [];
    let after: string | null = null;
    for (let pages = 0; ; pages++) {
      const response = await page(after);
      assert.equal(response.body.errors, undefined);
      const current = response.body.data?.accessLog as Page;
      assert.equal(current.records.length, 1, JSON.stringify({ pages, after, all: all.map(({ id, at }) => [id, at]) }));
      all.push(...current.records);
      if (!current.hasNextPage) break;
      after = current.endCursor;
      assert.ok(pages < 50);
    }
    const expected = await store.records.countDocuments({
      kind: 'ACCESS',
      consumer: 'central-bank',
      purpose: 'CREDIT_ASSESSMENT',
      fields: 'Subject.name',
      at: { $gte: new Date(since) },
    });
    assert.ok(expected >= 2);
    assert.equal(all.length, expected);
    assert.equal(new Set(all.map(({ id }) => id)).size, all.length, 'no record on two pages');
    assert.ok(
      all.every(
        ({ consumer, fields }) =>
          consumer === 'central-bank' &&
          fields.some(({ type, fields: names }) => type === 'Subject' && names.includes('name')),
      ),
    );
    assert.ok(
      all.every((record, index) => index === 0 || record.at <= (all[index - 1]?.at ?? '')),
      'newest first',
    );

    const bySubject = await ask(
      `{ accessLog(filter: { subject: "${seedSubject(8).uscc}" }) { records { consumer } } }`,
      PRIVACY_OFFICE,
    );
    // Newest first: the central bank's request about two subjects, then the tax bureau's (previous test).
    assert.deepEqual((bySubject.body.data?.accessLog as { records: unknown[] }).records, [
      { consumer: 'central-bank' },
      { consumer: 'tax-bureau' },
    ]);

    const bad = await ask('{ accessLog(filter: { field: "name" }) { records { id } } }', PRIVACY_OFFICE);
    assert.equal(bad.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const badCursor = await ask('{ accessLog(after: "nope") { records { id } } }', PRIVACY_OFFICE);
    assert.equal(badCursor.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  it('pages through records sharing one instant once each, newest first and by id, and never promises a page after an empty one', async () => {
    const chain = `same-instant-${process.pid}`;
    const instant = Date.now() - 30_000;
    // Ten records of one instant, between one just after it and one just before; ids 1..12 sort
    // as text (…:10 before …:2), as the store sorts them.
    const records = Array.from({ length: 12 }, (_, index): AccessLogRecord => ({
      _id: recordId(chain, index + 1),
      chain,
      seq: index + 1,
      instance: chain,
      prev: '',
      hash: '',
      kind: 'ACCESS',
      at: new Date(instant + (index === 0 ? 1 : index === 11 ? -1 : 0)),
      requestId: `${chain}-${index + 1}`,
      consumer: chain,
      purpose: 'AUDIT',
      policyVersion: 'test',
      operationName: null,
      operationHash: '',
      outcome: 'ANSWERED',
      fields: ['Subject.name'],
      subjects: [],
      deniedFields: [],
      maskedFields: [],
      durationMs: 1,
    }));
    const newestFirst = records
      .toSorted((a, b) => b.at.getTime() - a.at.getTime() || (a._id < b._id ? 1 : -1))
      .map(({ _id }) => _id);
    // Straight into the store, as a gateway writes; removed again so that the chains still verify.
    await store.records.insertMany(records);
    try {
      for (const first of [1, 5]) {
        const seen: string[] = [];
        let after: string | null = null;
        for (let pages = 0; pages <= records.length; pages++) {
          const response = await ask(
            `query ($consumer: String, $first: Int, $after: String) {
            accessLog(filter: { consumer: $consumer }, first: $first, after: $after) { records { id } endCursor hasNextPage }
          }`,
            PRIVACY_OFFICE,
            { consumer: chain, first, after },
          );
          assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
          const page = response.body.data?.accessLog as {
            records: { id: string }[];
            endCursor: string | null;
            hasNextPage: boolean;
          };
          assert.ok(
            page.records.length > 0 || !page.hasNextPage,
            `first: ${first}, page ${pages}: an empty page promises no next one`,
          );
          seen.push(...page.records.map(({ id }) => id));
          if (!page.hasNextPage) break;
          after = page.endCursor;
        }
        assert.deepEqual(
          seen,
          newestFirst,
          `first: ${first}: every record once, newest first, one instant's records by id`,
        );
      }
    } finally {
      await store.records.deleteMany({ chain });
    }
  });

  it('no consumer but the privacy office may read the log', async () => {
    for (const caller of [CENTRAL_BANK, COURT, TAX]) {
      const response = await ask(`{ subjectAccessReport(uscc: "${seedSubject(7).uscc}") { consumers } }`, caller);
      assert.equal(response.status, 403, caller.consumer);
      assert.equal(response.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.equal(response.body.data, undefined);
    }
  });

  it('with the log store unreachable: an error and no data; when it returns: answers again without a restart, and every answer is in the log', async () => {
    const proxy = federation.accessLogProxy;
    assert.ok(proxy);
    const query = `{ subject(uscc: "${seedSubject(2).uscc}") { uscc name } }`;
    await proxy.cut();
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const refused = await ask(query, CENTRAL_BANK);
        assert.equal(refused.status, 503);
        assert.equal(refused.body.errors?.[0]?.extensions?.code, 'ACCESS_LOG_UNAVAILABLE');
        assert.equal(refused.body.data, undefined, 'no data without a record');
        assert.doesNotMatch(JSON.stringify(refused.body), /name/);
      }
      // A load balancer learns it too: not ready while the log cannot be written.
      const ready = await fetch(`${federation.gateway.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: Record<string, string> }).checks.accessLog, 'unavailable');
    } finally {
      await proxy.restore();
    }
    // The same gateway process, no restart: it answers again once the store is back.
    const deadline = Date.now() + 30_000;
    let back: GraphQLResponse | undefined;
    while (Date.now() < deadline) {
      back = await ask(query, CENTRAL_BANK);
      if (back.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(back?.status, 200, 'answers again');
    const burst = await Promise.all(Array.from({ length: 30 }, () => ask(query, CENTRAL_BANK)));
    assert.ok(burst.every(({ status }) => status === 200));

    const stored = new Set(
      (await store.records.find({ kind: 'ACCESS' }).toArray()).map((record) =>
        record.kind === 'ACCESS' ? record.requestId : '',
      ),
    );
    const missing = [...answered].filter((requestId) => !stored.has(requestId));
    assert.deepEqual(missing, [], 'every request answered with data is in the log');
    assert.ok(answered.size > 30);
    const report = verifyAccessLog(await readAccessLog(store));
    assert.deepEqual(report.problems, [], 'the chain continues intact across the outage');
  });

  describe('tampering, detected and named by npm run audit -- verify', () => {
    let chain: string;
    const at = async (seq: number): Promise<AccessLogRecord> => {
      const record = await store.records.findOne({ _id: recordId(chain, seq) });
      assert.ok(record, `record ${seq} exists`);
      return record;
    };
    const expectProblem = async (kind: string, seq: number): Promise<string> => {
      const { code, stdout } = await audit(federation, ['verify']);
      assert.equal(code, 1, stdout);
      assert.match(
        stdout,
        new RegExp(`^${kind} chain ${chain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} seq ${seq} `, 'm'),
        stdout,
      );
      return stdout;
    };

    before(async () => {
      chain = federation.accessLog.writer.chain;
      // Checkpoints every 4 records: positions 4, 8, ... are signed; the test works on 5 to 7.
      await at(9);
    });

    it('a clean log verifies', async () => {
      const { code, stdout } = await audit(federation, ['verify']);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^verified: no record edited, deleted, inserted or reordered/m);
    });

    it('an edited record', async () => {
      const original = await at(5);
      await store.records.updateOne({ _id: original._id }, { $set: { consumer: 'someone-else' } });
      try {
        const stdout = await expectProblem('EDITED', 5);
        assert.match(stdout, /record 5 was edited/);
      } finally {
        await store.records.replaceOne({ _id: original._id }, original);
      }
    });

    it('an edited record whose hash was recomputed', async () => {
      const original = await at(5);
      const forged = { ...original, purpose: 'SOMETHING_ELSE' } as AccessLogRecord;
      forged.hash = recordHash(forged);
      await store.records.replaceOne({ _id: original._id }, forged);
      try {
        await expectProblem('EDITED', 5);
      } finally {
        await store.records.replaceOne({ _id: original._id }, original);
      }
    });

    it('a deleted record', async () => {
      const original = await at(6);
      await store.records.deleteOne({ _id: original._id });
      try {
        const stdout = await expectProblem('DELETED', 6);
        assert.match(stdout, /record 6 is missing/);
      } finally {
        await store.records.insertOne(original);
      }
    });

    it('an inserted record', async () => {
      const genuine = await at(6);
      const forged = { ...genuine, _id: `${genuine._id}b`, consumer: 'nobody', subjects: [] } as AccessLogRecord;
      forged.hash = recordHash(forged);
      await store.records.insertOne(forged);
      try {
        const stdout = await expectProblem('INSERTED', 6);
        assert.match(stdout, /no gateway wrote it there/);
      } finally {
        await store.records.deleteOne({ _id: forged._id });
      }
    });

    it('reordered records', async () => {
      const [five, six] = [await at(5), await at(6)];
      await store.records.deleteMany({ _id: { $in: [five._id, six._id] } });
      await store.records.insertMany([
        { ...six, _id: five._id, seq: 5 },
        { ...five, _id: six._id, seq: 6 },
      ] as AccessLogRecord[]);
      try {
        const stdout = await expectProblem('REORDERED', 5);
        assert.match(stdout, /position 5 holds the record sealed at position 6/);
        assert.match(stdout, /^REORDERED .* seq 6 /m);
      } finally {
        await store.records.deleteMany({ _id: { $in: [five._id, six._id] } });
        await store.records.insertMany([five, six]);
      }
    });

    it('a checkpoint with a bad signature', async () => {
      const checkpoint = await store.checkpoints.findOne({ chain, seq: 8 });
      assert.ok(checkpoint, 'checkpoint at 8');
      const other = await store.checkpoints.findOne({ chain, seq: 4 });
      await store.checkpoints.updateOne({ _id: checkpoint._id }, { $set: { signature: other?.signature ?? 'x' } });
      try {
        await expectProblem('BAD_CHECKPOINT', 8);
      } finally {
        await store.checkpoints.replaceOne({ _id: checkpoint._id }, checkpoint);
      }
    });

    it('an export verifies offline, and an edit of the exported file is named', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'credence-audit-'));
      try {
        const file = join(dir, 'access-log.jsonl');
        assert.equal((await audit(federation, ['export', '--out', file])).code, 0);
        const clean = await audit(federation, ['verify', '--file', file]);
        assert.equal(clean.code, 0, clean.stdout);
        const lines = (await readFile(file, 'utf8')).split('\n');
        const index = lines.findIndex((line) => line.includes(`"_id":${JSON.stringify(recordId(chain, 7))}`));
        assert.ok(index >= 0);
        lines[index] = (lines[index] ?? '').replace(/"consumer":"[^"]*"/, '"consumer":"someone-else"');
        await writeFile(file, lines.join('\n'));
        const tampered = await audit(federation, ['verify', '--file', file]);
        assert.equal(tampered.code, 1);
        assert.match(tampered.stdout, new RegExp(`^EDITED chain .* seq 7 `, 'm'));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    /** The chain's records and checkpoints matching `filter`, removed until the returned function puts them back. */
    const removeRecords = async (filter: Record<string, unknown>) => {
      const records = await store.records.find({ chain, ...filter }).toArray();
      const checkpoints = await store.checkpoints.find({ chain, ...filter }).toArray();
      await store.records.deleteMany({ _id: { $in: records.map(({ _id }) => _id) } });
      await store.checkpoints.deleteMany({ _id: { $in: checkpoints.map(({ _id }) => _id) } });
      return async () => {
        if (records.length > 0) await store.records.insertMany(records);
        if (checkpoints.length > 0) await store.checkpoints.insertMany(checkpoints);
      };
    };
    /** The privacy office countersigns the chain heads as they stand (npm run audit -- witness). */
    const witness = async (): Promise<void> => {
      const { code, stdout } = await audit(federation, ['witness']);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^witnessed \d+ chain head\(s\)/m);
    };

    it('a range of records deleted', async () => {
      const restore = await removeRecords({ seq: { $gte: 5, $lte: 7 } });
      try {
        const stdout = await expectProblem('DELETED', 5);
        assert.match(stdout, /records 5\.\.7 are missing/);
      } finally {
        await restore();
      }
    });

    it('the tail cut after the last checkpoint, once witnessed', async () => {
      // Leave records after the last checkpoint (checkpoints come every 4 records).
      for (let attempt = 0; attempt < 8; attempt++) {
        const [last] = await store.records.find({ chain }).sort({ seq: -1 }).limit(1).toArray();
        const [signed] = await store.checkpoints.find({ chain }).sort({ seq: -1 }).limit(1).toArray();
        if (last && signed && last.seq > signed.seq) break;
        await ask(`{ subject(uscc: "${seedSubject(3).uscc}") { name } }`, CENTRAL_BANK);
      }
      const [signed] = await store.checkpoints.find({ chain }).sort({ seq: -1 }).limit(1).toArray();
      assert.ok(signed);
      await witness();
      const restore = await removeRecords({ seq: { $gt: signed.seq } });
      try {
        const stdout = await expectProblem('DELETED', signed.seq + 1);
        assert.match(stdout, /the tail was cut.*the witness saw it/);
      } finally {
        await restore();
      }
    });

    it("a whole chain deleted: every record and checkpoint of the instance's latest chain (attack b)", async () => {
      await witness();
      const restore = await removeRecords({});
      try {
        const { code, stdout } = await audit(federation, ['verify']);
        assert.equal(code, 1, stdout);
        assert.match(
          stdout,
          new RegExp(
            `^DELETED chain ${chain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} seq - .*chain .* is missing.*witness`,
            'm',
          ),
          stdout,
        );
      } finally {
        await restore();
      }
      assert.equal((await audit(federation, ['verify'])).code, 0, 'restored, it verifies again');
    });

    it('a forged checkpoint: signed by another key for a hash no gateway wrote', async () => {
      const forger = loadCheckpointSigner({});
      const [last] = await store.records.find({ chain }).sort({ seq: -1 }).limit(1).toArray();
      assert.ok(last);
      const unsigned = { chain, seq: last.seq + 3, hash: 'f'.repeat(64), at: new Date(), keyId: forger.keyId };
      const forged: Checkpoint = {
        _id: recordId(chain, unsigned.seq),
        ...unsigned,
        signature: forger.sign(checkpointPayload(unsigned)),
      };
      await store.checkpoints.insertOne(forged);
      try {
        const stdout = await expectProblem('BAD_CHECKPOINT', unsigned.seq);
        assert.match(stdout, /does not carry a valid signature/);
      } finally {
        await store.checkpoints.deleteOne({ _id: forged._id });
      }
    });

    it('a forged prune mark, then the records and checkpoints before it deleted (attack a)', async () => {
      const anchor = await store.checkpoints.findOne({ chain, seq: 8 });
      assert.ok(anchor, 'checkpoint at 8');
      const mark = { _id: chain, chain, throughSeq: 8, prunedAt: new Date() } as PruneMark;
      await store.prunes.insertOne(mark);
      // What retention would remove: records 1..8, and the checkpoints before the anchor at 8.
      const records = await store.records.find({ chain, seq: { $gt: 0, $lte: 8 } }).toArray();
      const checkpoints = await store.checkpoints.find({ chain, seq: { $lt: 8 } }).toArray();
      await store.records.deleteMany({ _id: { $in: records.map(({ _id }) => _id) } });
      await store.checkpoints.deleteMany({ _id: { $in: checkpoints.map(({ _id }) => _id) } });
      try {
        const stdout = await expectProblem('BAD_PRUNE', 1);
        assert.match(stdout, /^DELETED chain .* seq 1 /m);
      } finally {
        await store.prunes.deleteOne({ _id: mark._id });
        await store.records.insertMany(records);
        await store.checkpoints.insertMany(checkpoints);
      }
      assert.equal((await audit(federation, ['verify'])).code, 0, 'restored, it verifies again');
    });

    it('retention removes whole signed segments and the rest still verifies', async () => {
      // Sign what is there, so the segment up to now is prunable.
      await federation.accessLog.close();
      const pruned = await run(process.execPath, ['scripts/audit.ts', 'prune', '--retention-days', '0'], {
        env: { ...process.env, MONGODB_URI: federation.mongo.uri, ...AUDIT_ENV },
      });
      assert.match(
        pruned.stdout,
        new RegExp(`pruned \\d+ record\\(s\\) of chain ${chain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
      assert.equal(await store.records.countDocuments({ chain, seq: 5 }), 0, 'old records removed');
      assert.equal(await store.records.countDocuments({ chain, seq: 0 }), 1, 'the chain start (its key) stays');
      const mark = await store.prunes.findOne({ chain });
      assert.ok(mark?.signature && mark.retentionDays === 0, 'the prune is signed and names its retention rule');
      const { code, stdout } = await audit(federation, ['verify', '--retention-days', '0']);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /pruned through \d+/);
    });

    it('a signed prune of records younger than the retention period is refused by verify', async () => {
      const { code, stdout } = await audit(federation, ['verify', '--retention-days', '1095']);
      assert.equal(code, 1, stdout);
      assert.match(
        stdout,
        new RegExp(
          `^BAD_PRUNE chain ${chain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} seq 1 .*younger than the retention period`,
          'm',
        ),
        stdout,
      );
    });
  });
});

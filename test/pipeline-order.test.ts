/**
 * The order of the gateway's request pipeline (gateway/pipeline.ts), as a property of its list:
 * one request through every stage, built as the gateway builds them, and what comes out depends
 * on each stage being where it is. Swap two stages and this fails: the access log before the strip
 * stage loses the subjects the gateway selected for it, the denied-field restoration inside the
 * key aliases misses fields under a moved alias, purpose before authentication has no consumer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../lib/logger.ts';
import { API_KEY_HEADER, PURPOSE_HEADER } from '../lib/identity/authenticate.ts';
import { DEFAULT_POLICIES_DIR } from '../lib/policy/releases/process-policy.ts';
import type { AccessEntry } from '../lib/access-log/record.ts';
import type { CompiledPolicy } from '../lib/policy/decision/model.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { readDemoKeys } from '../scripts/demo-keys.ts';
import { DEFAULT_CONSUMER_LIMITS } from '../gateway/config.ts';
import { createRateLimits, type RateLimits } from '../gateway/rate-limits.ts';
import { createOperationRegistry } from '../gateway/persisted-operations.ts';
import { createAccessRecorder } from '../gateway/access-log.ts';
import { createPipeline, gatewayStages, type Pipeline } from '../gateway/pipeline.ts';
import { answering, executionOf, identityOf, shippedPolicy, signer, writerKeeping } from './support/pipeline.ts';
import { conformanceStages } from './conformance/gateway.ts';

const log = createLogger('test');
const namespace = `credence-test-pipeline-order-${process.pid}`;
const ASKED = '91110000100000000X';
const ANSWERED = '91110000200000000Y';

let policy: CompiledPolicy;
let store: SharedStore;
let rateLimits: RateLimits;
let entries: AccessEntry[];
let pipeline: Pipeline;

before(async () => {
  policy = await shippedPolicy();
  store = await connectSharedStore(log, { url: 'redis://127.0.0.1:6379' });
  rateLimits = createRateLimits({ sharedStore: store, namespace, log });
  entries = [];
  pipeline = createPipeline(
    gatewayStages({
      policies: { current: () => policy },
      policiesDir: DEFAULT_POLICIES_DIR,
      log,
      signer,
      defaultLimits: DEFAULT_CONSUMER_LIMITS,
      defaultListSize: 10,
      rateLimits,
      operations: createOperationRegistry({ policiesDir: DEFAULT_POLICIES_DIR, log }),
      accessLog: createAccessRecorder(writerKeeping(entries)),
    }),
  );
});

after(async () => {
  rateLimits.close();
  const keys = await store.redis?.keys(`${namespace}:*`);
  if (keys && keys.length > 0) await store.redis?.del(...keys);
  await store.close();
});

describe('the request pipeline', () => {
  it('lists every stage of a request, in order', () => {
    assert.deepEqual(
      pipeline.stages.map(({ name }) => name),
      [
        'transport refusals',
        'request id',
        'version stamping',
        'stripping what the gateway added',
        'access log',
        'authentication',
        'purpose',
        'rate limits',
        'persisted operations',
        'admission limits',
        'literal arguments',
        'policy decision',
        'denied-field restoration',
        'skip guards',
        'subject keys',
        'key aliases',
        'department calls',
      ],
    );
  });

  it('is what the conformance harness runs: the same execution stages, in the same order', () => {
    const executing = pipeline.stages
      .filter((stage) => stage.prepare !== undefined || stage.finish !== undefined)
      .map(({ name }) => name);
    assert.deepEqual(
      conformanceStages().map(({ name }) => name),
      executing,
    );
  });

  it('answers through its stages in list order: rewrites inward, undos outward, the access log between the undos and the strip', async () => {
    entries.length = 0;
    const identity = identityOf(policy, 'public-portal', 'PUBLIC_DISCLOSURE', 'request-order');
    // Filter mode: the phone is cut out and put back; `uscc` and `__typename` are the planner's keys, moved and put back;
    // the condition gets guards; the subject the departments answer is named in the record though never asked for.
    const query = `query($b: Boolean!) { subject(uscc: "${ASKED}") { uscc: name __typename: legalRepresentative @include(if: $b) { name phone } } }`;
    const departments = {
      subject: { uscc: ANSWERED, name: 'Acme', legalRepresentative: { name: 'Rep', phone: '555' } },
    };
    const answer = await pipeline.execute(executionOf(query, identity, answering(departments), { b: true }));
    assert.equal(
      JSON.stringify(answer.data),
      JSON.stringify({ subject: { uscc: 'Acme', __typename: { name: 'Rep', phone: null } } }),
    );
    assert.deepEqual(
      answer.errors?.map(({ path, extensions }) => ({ path, code: extensions.code })),
      [{ path: ['subject', '__typename', 'phone'], code: 'FORBIDDEN' }],
    );
    assert.deepEqual(answer.extensions, { credence: { policyVersion: policy.version, requestId: 'request-order' } });
    assert.deepEqual(
      entries.map(({ requestId, subjects, deniedFields, outcome }) => ({ requestId, subjects, deniedFields, outcome })),
      [
        {
          requestId: 'request-order',
          subjects: [ASKED, ANSWERED],
          deniedFields: ['LegalRepresentative.phone'],
          outcome: 'PARTIAL',
        },
      ],
    );
  });

  it('builds a context through its stages in list order, and a refusal passes back through the access log', async () => {
    entries.length = 0;
    const keys = readDemoKeys(DEFAULT_POLICIES_DIR);
    const key = {};
    const context = await pipeline.context({
      key,
      headers: { [API_KEY_HEADER]: keys.get('central-bank') ?? '', [PURPOSE_HEADER]: 'CREDIT_ASSESSMENT' },
      body: {},
      query: {},
    });
    assert.equal(context.identity.consumer.id, 'central-bank');
    assert.equal(context.identity.view.field('LegalRepresentative', 'phone').effect, 'deny');
    assert.equal(context.limits.depth, DEFAULT_CONSUMER_LIMITS.depth);
    assert.match(
      pipeline.httpAnswer(key, 400, '{"errors":[]}'),
      new RegExp(`"requestId":"${context.identity.requestId}"`),
    );
    await assert.rejects(
      pipeline.context({
        key: {},
        headers: { [API_KEY_HEADER]: keys.get('central-bank') ?? '', [PURPOSE_HEADER]: 'AUDIT' },
        body: { query: '{ catalog { code } }' },
        query: {},
      }),
      (error: { extensions?: { code?: string } }) => error.extensions?.code === 'PURPOSE_NOT_ALLOWED',
    );
    assert.deepEqual(
      entries.map(({ consumer, outcome, errorCodes }) => ({ consumer, outcome, errorCodes })),
      [{ consumer: 'central-bank', outcome: 'REJECTED', errorCodes: ['PURPOSE_NOT_ALLOWED'] }],
    );
  });
});

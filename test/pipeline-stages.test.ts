/**
 * One test (or a few) per stage of the gateway's request pipeline (gateway/pipeline.ts), each
 * stage alone: what its `prepare` rewrites or refuses, what its `finish` undoes. The stages in
 * order are tested in pipeline-order.test.ts, and through the real federation by the no-leak,
 * adversarial and access-log suites.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { GraphQLError, Kind, parse, print, type GraphQLFormattedError } from 'graphql';
import type { GraphQLResponse } from '@apollo/server';
import { createLogger } from '../lib/logger.ts';
import { documentHash } from '../lib/graphql/document-hash.ts';
import { ASSERTION_HEADER, createAssertionVerifier } from '../lib/identity/assertion.ts';
import { API_KEY_HEADER, PURPOSE_HEADER } from '../lib/identity/authenticate.ts';
import { DEFAULT_POLICIES_DIR } from '../lib/policy/releases/process-policy.ts';
import { SERVED_SUBJECTS_EXTENSION } from '../lib/access-log/served-subjects.ts';
import type { AccessEntry } from '../lib/access-log/record.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { readDemoKeys } from '../scripts/demo-keys.ts';
import { DEFAULT_CONSUMER_LIMITS } from '../gateway/config.ts';
import { createRateLimits } from '../gateway/rate-limits.ts';
import { createOperationRegistry } from '../gateway/persisted-operations.ts';
import { createAccessRecorder } from '../gateway/access-log.ts';
import type { CompiledPolicy } from '../lib/policy/decision/model.ts';
import type { ContextRequest, GatewayContext, RequestIdentity } from '../gateway/stages/stage.ts';
import { transportRefusals } from '../gateway/stages/transport-refusals.ts';
import { REQUEST_ID_HEADER, requestIdStage } from '../gateway/stages/request-id.ts';
import { authenticationStage } from '../gateway/stages/authentication.ts';
import { purposeStage } from '../gateway/stages/purpose.ts';
import { rateLimitStage } from '../gateway/stages/rate-limiting.ts';
import { persistedOperationStage } from '../gateway/stages/persisted-operation-lookup.ts';
import { admissionLimitsStage } from '../gateway/stages/admission-limits.ts';
import { versionStampStage } from '../gateway/stages/version-stamp.ts';
import { stripAddedStage } from '../gateway/stages/strip-added.ts';
import { accessRecordingStage } from '../gateway/stages/access-recording.ts';
import { literalArgumentsStage } from '../gateway/stages/literal-arguments.ts';
import { policyDecisionStage } from '../gateway/stages/policy-decision.ts';
import { deniedFieldsStage } from '../gateway/stages/denied-fields.ts';
import { skipGuardsStage } from '../gateway/stages/skip-guards.ts';
import { subjectKeysStage } from '../gateway/stages/subject-keys.ts';
import { keyAliasesStage } from '../gateway/stages/key-aliases.ts';
import { plannerKeysOf } from '../gateway/planner-keys.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { composeWith } from './support/rich-federation.ts';
import { RICH_DEPARTMENTS } from './fixtures/rich/index.ts';
import { departmentCallsStage } from '../gateway/stages/department-calls.ts';
import {
  answering,
  executionOf,
  identityOf,
  schema,
  shippedPolicy,
  signer,
  signerPublicKeyPem,
  writerKeeping,
  type Handed,
} from './support/pipeline.ts';

const log = createLogger('test');
const CODE = '91110000100000000X';

let policy: CompiledPolicy;
let portal: RequestIdentity;
let bank: RequestIdentity;
before(async () => {
  policy = await shippedPolicy();
  portal = identityOf(policy, 'public-portal', 'PUBLIC_DISCLOSURE');
  bank = identityOf(policy, 'central-bank', 'CREDIT_ASSESSMENT');
});

const nothingAnswered = answering({});

function contextRequest(headers: Record<string, string> = {}): ContextRequest {
  return {
    http: { key: {}, headers, body: { query: '{ catalog { code } }' }, query: {} },
    access: { servedSubjects: new Set(), recorded: false },
  };
}

async function refusalOf(run: () => unknown): Promise<GraphQLError> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof GraphQLError, `a GraphQL error, not ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

function singleResponse(errors: GraphQLFormattedError[] = []): GraphQLResponse {
  return {
    http: { status: 400, headers: new Map() } as GraphQLResponse['http'],
    body: { kind: 'single', singleResult: { errors } },
  };
}

describe('stage: transport refusals', () => {
  it('refuses a batch before any GraphQL runs, and lets one operation through', async () => {
    const app = Fastify();
    app.post('/graphql', { preHandler: transportRefusals.preHandler }, async () => ({ handled: true }));
    const batch = await app.inject({
      method: 'POST',
      url: '/graphql',
      payload: [{ query: '{ a }' }, { query: '{ b }' }],
    });
    assert.equal(batch.statusCode, 400);
    assert.equal(
      batch.json<{ errors: { extensions: { code: string } }[] }>().errors[0]?.extensions.code,
      'BATCHING_NOT_ALLOWED',
    );
    const single = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ a }' } });
    assert.deepEqual(single.json(), { handled: true });
    await app.close();
  });
});

describe('stage: request id', () => {
  it('is created in the context, sent to each department, stamped on the answer and on an HTTP refusal', async () => {
    const stage = requestIdStage();
    const request = contextRequest();
    await stage.context?.(request);
    assert.match(request.requestId ?? '', /^[0-9a-f-]{36}$/);
    const headers = new Map<string, string>();
    const identity = { ...portal, requestId: request.requestId ?? '' };
    stage.departmentCall?.({
      department: 'registry',
      request: { query: '{ a }', http: { headers: { set: (name, value) => void headers.set(name, value) } } },
      context: { identity },
    });
    assert.equal(headers.get(REQUEST_ID_HEADER), request.requestId);
    const stamped = await stage.finish?.(executionOf('{ catalog { code } }', identity, nothingAnswered), { data: {} });
    assert.deepEqual(stamped?.extensions, { credence: { requestId: request.requestId } });
    const refused = stage.httpAnswer?.(request.http.key, 401, JSON.stringify({ errors: [{ message: 'no' }] }));
    assert.deepEqual(JSON.parse(refused ?? ''), {
      errors: [{ message: 'no' }],
      extensions: { credence: { requestId: request.requestId } },
    });
    assert.equal(stage.httpAnswer?.(request.http.key, 200, '{"data":{}}'), '{"data":{}}');
  });
});

describe('stage: authentication', () => {
  const keys = readDemoKeys(DEFAULT_POLICIES_DIR);
  const stage = () =>
    authenticationStage({ policies: { current: () => policy }, policiesDir: DEFAULT_POLICIES_DIR, log });

  it('knows the consumer and its declared purpose from a valid key', async () => {
    const request = contextRequest({
      [API_KEY_HEADER]: keys.get('central-bank') ?? '',
      [PURPOSE_HEADER]: 'CREDIT_ASSESSMENT',
    });
    await stage().context?.(request);
    assert.equal(request.authenticated?.consumer.id, 'central-bank');
    assert.equal(request.authenticated?.purpose, 'CREDIT_ASSESSMENT');
    assert.equal(request.policy?.version, policy.version);
  });

  it('refuses an unknown key with a code and knows no one (nothing to record)', async () => {
    const request = contextRequest({ [API_KEY_HEADER]: 'cred_not-a-key', [PURPOSE_HEADER]: 'CREDIT_ASSESSMENT' });
    const refusal = await refusalOf(() => stage().context?.(request));
    assert.equal(refusal.extensions.code, 'INVALID_API_KEY');
    assert.equal(request.known, undefined);
  });

  it('refuses a purpose the consumer does not hold, knowing whom to record it under', async () => {
    const request = contextRequest({ [API_KEY_HEADER]: keys.get('central-bank') ?? '', [PURPOSE_HEADER]: 'AUDIT' });
    const refusal = await refusalOf(() => stage().context?.(request));
    assert.equal(refusal.extensions.code, 'PURPOSE_NOT_ALLOWED');
    assert.equal(request.known?.consumer.id, 'central-bank');
    assert.equal(request.authenticated, undefined);
  });
});

describe('stage: purpose', () => {
  it("gives the request the consumer's view under its purpose and an assertion signer bound to the request id", async () => {
    const request = contextRequest();
    Object.assign(request, {
      requestId: 'request-7',
      policy,
      authenticated: { consumer: policy.consumers.get('central-bank'), purpose: 'CREDIT_ASSESSMENT' },
    });
    await purposeStage({ signer }).context?.(request);
    assert.equal(request.identity?.view.field('LegalRepresentative', 'phone').effect, 'deny');
    const verifier = createAssertionVerifier({ publicKeys: { [signer.keyId]: signerPublicKeyPem } });
    const call = { query: '{ a }', variables: {} };
    const asserted = verifier.verify(request.identity?.assertionFor('registry', call), {
      audience: 'registry',
      request: call,
    });
    assert.deepEqual(
      [asserted.consumer, asserted.purpose, asserted.policyVersion, asserted.requestId],
      ['central-bank', 'CREDIT_ASSESSMENT', policy.version, 'request-7'],
    );
  });

  it('refuses a purpose the policy gives the consumer no view under', async () => {
    const request = contextRequest();
    Object.assign(request, {
      requestId: 'request-8',
      policy,
      authenticated: { consumer: policy.consumers.get('central-bank'), purpose: 'NO_SUCH_PURPOSE' },
    });
    const refusal = await refusalOf(() => purposeStage({ signer }).context?.(request));
    assert.equal(refusal.extensions.code, 'PURPOSE_NOT_ALLOWED');
    assert.deepEqual(refusal.extensions.http, { status: 403 });
  });
});

describe('stage: rate limits', () => {
  let store: SharedStore;
  before(async () => {
    store = await connectSharedStore(log, { url: 'redis://127.0.0.1:6379' });
  });
  after(async () => {
    const keys = await store.redis?.keys(`credence-test-stage-rate-${process.pid}:*`);
    if (keys && keys.length > 0) await store.redis?.del(...keys);
    await store.close();
  });

  it("gives the request the consumer's limits and refuses the request over its rate", async () => {
    const rateLimits = createRateLimits({
      sharedStore: store,
      namespace: `credence-test-stage-rate-${process.pid}`,
      log,
    });
    const stage = rateLimitStage({ rateLimits, defaultLimits: { ...DEFAULT_CONSUMER_LIMITS, requestsPerMinute: 1 } });
    const first = contextRequest();
    first.identity = bank;
    await stage.context?.(first);
    assert.equal(first.limits?.requestsPerMinute, bank.consumer.limits?.requestsPerMinute ?? 1);
    const limited = { ...bank, consumer: { ...bank.consumer, limits: { requestsPerMinute: 1 } } };
    const second = contextRequest();
    second.identity = limited;
    const refusal = await refusalOf(async () => {
      await stage.context?.(second);
      await stage.context?.(second);
    });
    assert.equal(refusal.extensions.code, 'RATE_LIMITED');
    rateLimits.close();
  });

  it('RateLimit headers: sets RateLimit-Policy and RateLimit on the answer to a counted request, and on its 429 refusal', async () => {
    const rateLimits = createRateLimits({
      sharedStore: store,
      namespace: `credence-test-stage-rate-${process.pid}`,
      log,
    });
    const stage = rateLimitStage({ rateLimits, defaultLimits: DEFAULT_CONSUMER_LIMITS });
    const limited = {
      ...bank,
      consumer: {
        ...bank.consumer,
        id: `headers-${process.pid}`,
        limits: { requestsPerMinute: 2, requestsPerDay: 10 },
      },
    };
    const counted = contextRequest();
    counted.identity = limited;
    await stage.context?.(counted);
    assert.deepEqual(stage.httpHeaders?.(counted.http.key), {
      'ratelimit-policy': '"minute";q=2;w=60, "day";q=10;w=86400',
      ratelimit: stage.httpHeaders?.(counted.http.key)?.ratelimit,
    });
    assert.match(stage.httpHeaders?.(counted.http.key)?.ratelimit ?? '', /^"minute";r=1;t=\d+, "day";r=9;t=\d+$/);
    // A request this stage never counted (refused before it, or another HTTP request) gets none.
    assert.equal(stage.httpHeaders?.({}), undefined);
    const second = contextRequest();
    second.identity = limited;
    await stage.context?.(second);
    assert.match(stage.httpHeaders?.(second.http.key)?.ratelimit ?? '', /^"minute";r=0;/);
    const third = contextRequest();
    third.identity = limited;
    const refusal = await refusalOf(() => stage.context?.(third));
    assert.equal(refusal.extensions.code, 'RATE_LIMITED');
    const headers = (refusal.extensions.http as { headers: Map<string, string> }).headers;
    assert.equal(headers.get('ratelimit-policy'), '"minute";q=2;w=60, "day";q=10;w=86400');
    // Refused by the minute, the request was not counted against the day: the day is left out.
    assert.match(headers.get('ratelimit') ?? '', /^"minute";r=0;t=\d+$/);
    assert.ok(headers.get('retry-after'));
    assert.equal(stage.httpHeaders?.(third.http.key), undefined);
    rateLimits.close();
  });
});

function gatewayContext(identity: RequestIdentity): GatewayContext {
  return {
    identity,
    limits: { ...DEFAULT_CONSUMER_LIMITS, ...identity.consumer.limits },
    access: { servedSubjects: new Set(), recorded: false },
  };
}

describe('stage: persisted operations', () => {
  it('refuses a hash no operation is registered under, before the text is read', async () => {
    const stage = persistedOperationStage({
      operations: createOperationRegistry({ policiesDir: DEFAULT_POLICIES_DIR, log }),
    });
    const request = { extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } };
    const refusal = await refusalOf(() => stage.received?.({ request, context: gatewayContext(bank), schema }));
    assert.equal(refusal.extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('stage: admission limits', () => {
  const stage = admissionLimitsStage({ defaultListSize: 10 });

  it('refuses a document over the size limit before it is parsed', async () => {
    const context = gatewayContext(bank);
    const query = `{ catalog { code ${' '.repeat(context.limits.documentBytes)} } }`;
    const refusal = await refusalOf(() => stage.received?.({ request: { query }, context, schema }));
    assert.equal(refusal.extensions.code, 'DOCUMENT_TOO_LARGE');
  });

  it('refuses, once resolved, a missing operation and an operation deeper than the limit', async () => {
    const context = { ...gatewayContext(bank), limits: { ...DEFAULT_CONSUMER_LIMITS, depth: 2 } };
    const document = parse(`{ subject(uscc: "${CODE}") { legalRepresentative { name } } }`);
    const missing = await refusalOf(() =>
      stage.resolved?.({ schema, document, operation: undefined, variables: {}, context }),
    );
    assert.equal(missing.extensions.code, 'OPERATION_RESOLUTION_FAILURE');
    const operation = document.definitions[0];
    assert.ok(operation?.kind === Kind.OPERATION_DEFINITION);
    const deep = await refusalOf(() => stage.resolved?.({ schema, document, operation, variables: {}, context }));
    assert.equal(deep.extensions.code, 'QUERY_TOO_DEEP');
  });
});

describe('stage: version stamping', () => {
  it('stamps the policy version on an executed answer and on a refusal, not on an answer withheld for the access log', async () => {
    const stamped = await versionStampStage.finish?.(executionOf('{ catalog { code } }', bank, nothingAnswered), {
      data: {},
    });
    assert.deepEqual(stamped?.extensions, { credence: { policyVersion: policy.version } });
    const refused = singleResponse([{ message: 'Too deep.', extensions: { code: 'QUERY_TOO_DEEP' } }]);
    const withheld = singleResponse([{ message: 'No log.', extensions: { code: 'ACCESS_LOG_UNAVAILABLE' } }]);
    for (const response of [refused, withheld]) {
      await versionStampStage.sent?.({
        response,
        context: gatewayContext(bank),
        received: { source: undefined, operationName: null, startedAt: new Date() },
        request: {},
        document: undefined,
        operationName: null,
      });
    }
    assert.equal(refused.body.kind === 'single' && refused.body.singleResult.extensions?.credence !== undefined, true);
    assert.equal(withheld.body.kind === 'single' && withheld.body.singleResult.extensions, undefined);
  });
});

describe('stage: stripping what the gateway added', () => {
  it('removes every registered alias at every depth in one walk, and nothing else', async () => {
    const execution = executionOf('{ catalog { code } }', bank, nothingAnswered);
    execution.added.push('__credence_guard', '__credence_subject');
    const answer = {
      data: {
        subjects: [{ name: 'a', __credence_guard: 'Subject', __credence_subject: CODE }],
        __credence_guard: 'Query',
        guard: 1,
      },
    };
    await stripAddedStage.finish?.(execution, answer);
    assert.deepEqual(answer.data, { subjects: [{ name: 'a' }], guard: 1 });
  });
});

describe('stage: access log', () => {
  it('records an executed request with the subjects its answer names, before the answer leaves', async () => {
    const entries: AccessEntry[] = [];
    const stage = accessRecordingStage(createAccessRecorder(writerKeeping(entries)));
    const execution = executionOf(
      `{ subject(uscc: "${CODE}") { name __credence_subject: uscc } }`,
      bank,
      nothingAnswered,
    );
    await stage.prepare?.(execution);
    const answer = { data: { subject: { name: 'A', __credence_subject: CODE } } };
    assert.equal(await stage.finish?.(execution, answer), answer);
    assert.deepEqual(
      entries.map(({ consumer, purpose, subjects, outcome }) => ({ consumer, purpose, subjects, outcome })),
      [{ consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT', subjects: [CODE], outcome: 'ANSWERED' }],
    );
  });

  it('withholds the answer when the record cannot be written', async () => {
    const stage = accessRecordingStage(createAccessRecorder(writerKeeping([], true)));
    const execution = executionOf('{ catalog { code } }', bank, nothingAnswered);
    await stage.prepare?.(execution);
    const answer = await stage.finish?.(execution, { data: { catalog: [] } });
    assert.equal(answer?.data, undefined);
    assert.equal(answer?.errors?.[0]?.extensions.code, 'ACCESS_LOG_UNAVAILABLE');
  });

  it('records a refusal while the context was built once the consumer is known, and lets an unauthenticated one pass unrecorded', async () => {
    const entries: AccessEntry[] = [];
    const stage = accessRecordingStage(createAccessRecorder(writerKeeping(entries)));
    const refusal = new GraphQLError('Slow down.', { extensions: { code: 'RATE_LIMITED' } });
    const known = contextRequest();
    Object.assign(known, {
      requestId: 'request-9',
      policy,
      known: { consumer: { id: 'central-bank' }, purpose: 'CREDIT_ASSESSMENT' },
    });
    assert.equal(await stage.contextRefused?.(known, refusal), refusal);
    assert.equal(await stage.contextRefused?.(contextRequest(), refusal), refusal);
    assert.deepEqual(
      entries.map(({ requestId, outcome, errorCodes }) => ({ requestId, outcome, errorCodes })),
      [{ requestId: 'request-9', outcome: 'REJECTED', errorCodes: ['RATE_LIMITED'] }],
    );
  });

  it('records an answer Apollo Server produced without execution, and withholds it when it cannot', async () => {
    const entries: AccessEntry[] = [];
    const sent = (refuse: boolean, response: GraphQLResponse) =>
      accessRecordingStage(createAccessRecorder(writerKeeping(entries, refuse))).sent?.({
        response,
        context: gatewayContext(bank),
        received: { source: '{ catalog { cod } }', operationName: null, startedAt: new Date() },
        request: {},
        document: undefined,
        operationName: null,
      });
    const invalid = singleResponse([
      { message: 'Cannot query field "cod".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
    await sent(false, invalid);
    assert.deepEqual(
      entries.map(({ outcome, errorCodes }) => ({ outcome, errorCodes })),
      [{ outcome: 'FAILED', errorCodes: ['GRAPHQL_VALIDATION_FAILED'] }],
    );
    const withheld = singleResponse([
      { message: 'Cannot query field "cod".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
    await sent(true, withheld);
    assert.equal(withheld.http.status, 503);
    assert.equal(
      withheld.body.kind === 'single' && withheld.body.singleResult.errors?.[0]?.extensions?.code,
      'ACCESS_LOG_UNAVAILABLE',
    );
  });
});

describe('stage: policy decision', () => {
  it('rejects an operation with a denied field in reject mode, without asking any department', async () => {
    const handed: Handed = { documents: [], queryHashes: [] };
    const execution = executionOf(
      `{ subject(uscc: "${CODE}") { legalRepresentative { name phone } } }`,
      bank,
      answering({}, handed),
    );
    const answer = await policyDecisionStage().prepare?.(execution);
    assert.equal(answer?.errors?.[0]?.extensions.code, 'FORBIDDEN');
    assert.deepEqual(answer?.errors?.[0]?.extensions.deniedFields, ['LegalRepresentative.phone']);
    assert.equal(execution.verdict?.kind, 'rejected');
    assert.deepEqual(handed.documents, []);
  });

  it("cuts the denied fields out in filter mode, registering the placeholder with the gateway's additions", async () => {
    const execution = executionOf(
      `{ subject(uscc: "${CODE}") { legalRepresentative { phone } name } }`,
      portal,
      nothingAnswered,
    );
    assert.equal(await policyDecisionStage().prepare?.(execution), undefined);
    assert.equal(execution.verdict?.kind, 'filtered');
    assert.ok(execution.document);
    assert.doesNotMatch(print(execution.document), /phone/);
    assert.deepEqual(execution.added, ['__credence_filtered']);
    assert.deepEqual(execution.fields.denied, ['LegalRepresentative.phone']);
  });

  it("answers introspection alone from the consumer's own schema, and refuses it mixed with data", async () => {
    const alone = await policyDecisionStage().prepare?.(
      executionOf('{ __type(name: "LegalRepresentative") { fields { name } } }', portal, nothingAnswered),
    );
    assert.deepEqual((alone?.data?.__type as { fields: { name: string }[] }).fields.map(({ name }) => name).sort(), [
      'idNumber',
      'name',
    ]);
    const mixed = await policyDecisionStage().prepare?.(
      executionOf('{ __typename __schema { queryType { name } } catalog { code } }', portal, nothingAnswered),
    );
    assert.equal(mixed?.errors?.[0]?.extensions.code, 'BAD_REQUEST');
  });

  it('masked paths: on the way out, lists in extensions.credence.masked the path of each masked value the answer holds, as the caller keyed it', async () => {
    const stage = policyDecisionStage();
    const execution = executionOf(
      `{ subject(uscc: "${CODE}") { name rep: legalRepresentative { name idNumber } ... on Subject { legalRepresentative { idNumber } } } }`,
      portal,
      nothingAnswered,
    );
    await stage.prepare?.(execution);
    const answer = await stage.finish?.(execution, {
      data: {
        subject: {
          name: 'S',
          rep: { name: 'A', idNumber: '4101**********1234' },
          legalRepresentative: { idNumber: null },
        },
      },
      extensions: { credence: { requestId: 'r-1' } },
    });
    // The aliased value is listed under its alias; the null one (nothing masked) is not.
    assert.deepEqual(answer?.extensions?.credence, { requestId: 'r-1', masked: [['subject', 'rep', 'idNumber']] });
  });

  it('masked paths: an answer with no masked value, and introspection, get no masked list', async () => {
    const stage = policyDecisionStage();
    const plain = executionOf(`{ subject(uscc: "${CODE}") { name } }`, portal, nothingAnswered);
    await stage.prepare?.(plain);
    const answer = { data: { subject: { name: 'S' } } };
    assert.equal(await stage.finish?.(plain, answer), answer);
    const introspection = executionOf('{ __type(name: "LegalRepresentative") { name } }', portal, nothingAnswered);
    const answered = await stage.prepare?.(introspection);
    assert.ok(answered);
    assert.equal((await stage.finish?.(introspection, answered))?.extensions?.credence, undefined);
  });
});

describe('stage: denied-field restoration', () => {
  it('puts each denied field back as null with a FORBIDDEN error at its path', async () => {
    const execution = executionOf(
      `{ subject(uscc: "${CODE}") { legalRepresentative { phone name } } }`,
      portal,
      nothingAnswered,
    );
    await policyDecisionStage().prepare?.(execution);
    const answer = await deniedFieldsStage.finish?.(execution, {
      data: { subject: { legalRepresentative: { name: 'A' } } },
    });
    assert.deepEqual(answer?.data, { subject: { legalRepresentative: { name: 'A', phone: null } } });
    assert.deepEqual(
      answer?.errors?.map(({ path, extensions }) => ({ path, code: extensions.code })),
      [{ path: ['subject', 'legalRepresentative', 'phone'], code: 'FORBIDDEN' }],
    );
  });

  it('names the purpose that denied the field, in the message and in extensions.purpose', async () => {
    const execution = executionOf(
      `{ subject(uscc: "${CODE}") { legalRepresentative { phone name } } }`,
      portal,
      nothingAnswered,
    );
    await policyDecisionStage().prepare?.(execution);
    const answer = await deniedFieldsStage.finish?.(execution, {
      data: { subject: { legalRepresentative: { name: 'A' } } },
    });
    const [forbidden] = answer?.errors ?? [];
    assert.equal(forbidden?.extensions.purpose, 'PUBLIC_DISCLOSURE');
    assert.match(forbidden?.message ?? '', /LegalRepresentative\.phone for purpose PUBLIC_DISCLOSURE/);
  });

  it('leaves an answer it did not filter alone', async () => {
    const execution = executionOf('{ catalog { code } }', bank, nothingAnswered);
    const answer = { data: { catalog: [] } };
    assert.equal(await deniedFieldsStage.finish?.(execution, answer), answer);
  });
});

describe('stage: literal arguments', () => {
  const OTHER = '91110000100000001X';
  const partner = (code: string, tail = ''): string =>
    `{ subject(uscc: "${code}") { name @include(if: true) } subjects(first: 2) { name } ${tail}}`;

  it('executes operations that differ only in their literals as one shape, the values as variables', async () => {
    const stage = literalArgumentsStage();
    const first = executionOf(partner(CODE), bank, nothingAnswered);
    const second = executionOf(`${partner(OTHER)} # another text`, bank, nothingAnswered);
    await stage.prepare?.(first);
    await stage.prepare?.(second);
    assert.equal(first.document, second.document, 'one document object for the shape');
    const shape = print(first.document ?? parse('{ a }'));
    assert.match(shape, /query \(\$credenceLiteral0: ID!, \$credenceLiteral1: Int!\)/);
    assert.match(shape, /subject\(uscc: \$credenceLiteral0\)/);
    assert.match(shape, /@include\(if: true\)/, 'directive arguments stay');
    assert.deepEqual(first.variables, { credenceLiteral0: CODE, credenceLiteral1: 2 });
    assert.deepEqual(second.variables, { credenceLiteral0: OTHER, credenceLiteral1: 2 });
  });

  it('keeps the request’s variables and their names, gives one variable to a literal repeated under a merged key, and leaves a document without literals alone', async () => {
    const stage = literalArgumentsStage();
    const merged = executionOf(
      `query($credenceLiteral0: Int) { subjects(first: $credenceLiteral0) { name } a: subject(uscc: "${CODE}") { name } a: subject(uscc: "${CODE}") { status } }`,
      bank,
      nothingAnswered,
      { credenceLiteral0: 1 },
    );
    await stage.prepare?.(merged);
    assert.deepEqual(merged.variables, { credenceLiteral0: 1, credenceLiteral1: CODE });
    const plain = executionOf('query($n: Int) { subjects(first: $n) { name } }', bank, nothingAnswered, { n: 1 });
    const before = plain.document;
    await stage.prepare?.(plain);
    assert.equal(plain.document, before);
    assert.deepEqual(plain.variables, { n: 1 });
  });

  it('hands the departments one plan key for the shape, with the values as variables, and answers as the literal operation would', async () => {
    const stage = literalArgumentsStage();
    const handed: Handed = { documents: [], queryHashes: [] };
    const executor = answering({ subject: { name: 'A', status: 'ACTIVE' } }, handed);
    const texts = [`{ subject(uscc: "${CODE}") { name } }`, `{ subject(uscc: "${OTHER}") { name } }`];
    for (const text of texts) {
      const execution = executionOf(text, bank, executor);
      await stage.prepare?.(execution);
      const answer = await departmentCallsStage.prepare?.(execution);
      const unchanged = executionOf(text, bank, answering({ subject: { name: 'A', status: 'ACTIVE' } }));
      assert.deepEqual(answer, await departmentCallsStage.prepare?.(unchanged));
    }
    assert.equal(handed.queryHashes[0], handed.queryHashes[1]);
    assert.equal(handed.documents[0], handed.documents[1]);
    assert.notEqual(handed.queryHashes[0], documentHash(texts[0] ?? ''));
  });
});

describe('stage: skip guards', () => {
  it("guards an operation with a condition and registers the guard's alias; leaves one without alone", async () => {
    const guarded = executionOf('query($b: Boolean!) { catalog @include(if: $b) { code } }', bank, nothingAnswered);
    await skipGuardsStage.prepare?.(guarded);
    assert.match(print(guarded.document ?? parse('{ a }')), /__credence_guard: __typename/);
    assert.deepEqual(guarded.added, ['__credence_guard']);
    const plain = executionOf('{ catalog { code } }', bank, nothingAnswered);
    const before = plain.document;
    await skipGuardsStage.prepare?.(plain);
    assert.equal(plain.document, before);
    assert.deepEqual(plain.added, []);
  });
});

describe('stage: subject keys', () => {
  it("selects every subject's code under an alias of its own, registered for stripping", async () => {
    const execution = executionOf(`{ subjects(first: 2) { name } }`, bank, nothingAnswered);
    await subjectKeysStage.prepare?.(execution);
    assert.match(print(execution.document ?? parse('{ a }')), /name\s+__credence_subject: uscc/);
    assert.deepEqual(execution.added, ['__credence_subject']);
  });
});

describe('stage: key aliases', () => {
  it("moves an alias the planner uses out of its way, then puts the caller's key and document back", async () => {
    const stage = keyAliasesStage();
    const execution = executionOf(`{ subject(uscc: "${CODE}") { uscc: name } }`, bank, nothingAnswered);
    const original = execution.document;
    await stage.prepare?.(execution);
    assert.match(print(execution.document ?? parse('{ a }')), /__credence_as_uscc: name/);
    const answer = await stage.finish?.(execution, { data: { subject: { __credence_as_uscc: 'A' } } });
    assert.deepEqual(answer?.data, { subject: { uscc: 'A' } });
    assert.equal(execution.document, original);
  });

  // A foreign supergraph (test/fixtures/rich): entity keys `id` on Book, Gadget and Supplier, the
  // nested key `site { country code }` on Warehouse, `@requires(fields: "weightGrams")` on Book.
  const rich = composeWith(RICH_DEPARTMENTS);
  const richSchema = { apiSchema: buildApiSchema(rich), plannerKeys: plannerKeysOf(rich) };

  it('moves an alias named like any entity key, nested key or @requires field of the type it is on', async () => {
    const stage = keyAliasesStage();
    const execution = executionOf(
      '{ warehouses { site { code: country country: code } } search { ... on Book { id: name weightGrams: price } ... on Supplier { name } } }',
      bank,
      nothingAnswered,
      undefined,
      undefined,
      richSchema,
    );
    const original = execution.document;
    await stage.prepare?.(execution);
    const printed = print(execution.document ?? parse('{ a }'));
    for (const moved of [
      /__credence_as_code: country/,
      /__credence_as_country: code/,
      /__credence_as_id: name/,
      /__credence_as_weightGrams: price/,
    ]) {
      assert.match(printed, moved);
    }
    const answer = await stage.finish?.(execution, {
      data: {
        warehouses: [{ site: { __credence_as_code: 'CN', __credence_as_country: 'SH-1' } }],
        search: [{ __credence_as_id: 'A book', __credence_as_weightGrams: 12.5 }, { name: 'A supplier' }],
      },
    });
    assert.deepEqual(answer?.data, {
      warehouses: [{ site: { code: 'CN', country: 'SH-1' } }],
      search: [{ id: 'A book', weightGrams: 12.5 }, { name: 'A supplier' }],
    });
    assert.equal(execution.document, original);
  });

  it("moves an alias named like a key of any type an interface may be, and leaves other types' aliases alone", async () => {
    const stage = keyAliasesStage();
    const onInterface = executionOf(
      '{ products { id: name } }',
      bank,
      nothingAnswered,
      undefined,
      undefined,
      richSchema,
    );
    await stage.prepare?.(onInterface);
    assert.match(print(onInterface.document ?? parse('{ a }')), /__credence_as_id: name/);
    // `stockCount` is no key of Warehouse, and `id` none of Site: nothing to move, the document untouched.
    const unkeyed = executionOf(
      '{ warehouses { id: stockCount site { id: code } } }',
      bank,
      nothingAnswered,
      undefined,
      undefined,
      richSchema,
    );
    const original = unkeyed.document;
    await stage.prepare?.(unkeyed);
    assert.equal(unkeyed.document, original);
  });

  it('moves no entity-key alias when the schema load found no planner keys (the shipped keys only)', async () => {
    const stage = keyAliasesStage();
    const execution = executionOf('{ products { id: name } }', bank, nothingAnswered, undefined, undefined, {
      apiSchema: richSchema.apiSchema,
      plannerKeys: new Map(),
    });
    const original = execution.document;
    await stage.prepare?.(execution);
    assert.equal(execution.document, original);
  });
});

describe('stage: department calls', () => {
  it("hands the prepared document to the planner under its own hash, the operation's when unchanged", async () => {
    const handed: Handed = { documents: [], queryHashes: [] };
    const unchanged = executionOf('{ catalog { code } }', bank, answering({ catalog: [{ code: 'R1' }] }, handed));
    assert.deepEqual(JSON.parse(JSON.stringify((await departmentCallsStage.prepare?.(unchanged))?.data)), {
      catalog: [{ code: 'R1' }],
    });
    const changed = executionOf('{ catalog { code } }', bank, answering({ catalog: [] }, handed));
    changed.document = parse('{ catalog { code name } }');
    await departmentCallsStage.prepare?.(changed);
    assert.deepEqual(handed.queryHashes, [
      unchanged.requestContext.queryHash,
      documentHash(print(parse('{ catalog { code name } }'))),
    ]);
  });

  it('asks no department when the filter left nothing to ask', async () => {
    const handed: Handed = { documents: [], queryHashes: [] };
    const execution = executionOf('{ catalog { code } }', bank, answering({}, handed));
    execution.document = null;
    assert.deepEqual(await departmentCallsStage.prepare?.(execution), { data: {} });
    assert.deepEqual(handed.documents, []);
  });

  it('signs each call for its department and takes the subjects it reports served from its answer', () => {
    const headers = new Map<string, string>();
    const context: Partial<GatewayContext> = gatewayContext(bank);
    const call = {
      department: 'registry',
      request: {
        query: '{ a }',
        http: { headers: { set: (name: string, value: string) => void headers.set(name, value) } },
      },
      context,
    };
    departmentCallsStage.departmentCall?.(call);
    assert.ok((headers.get(ASSERTION_HEADER) ?? '').length > 0);
    const response = { data: {}, extensions: { [SERVED_SUBJECTS_EXTENSION]: [CODE] } };
    departmentCallsStage.departmentAnswered?.(call, response);
    assert.deepEqual([...(context.access?.servedSubjects ?? [])], [CODE]);
    assert.equal(SERVED_SUBJECTS_EXTENSION in response.extensions, false);
  });
});

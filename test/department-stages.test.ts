/**
 * A department's enforcement stages (subgraphs/runtime/enforcement.ts) as a list: their order,
 * and the two that act around the operation (the guard on the way in, the masks on the way out)
 * each alone. The middleware stages (shield, served subjects, record rules) are exercised by
 * graphql-shield, disclosure-windows and the no-leak suite through real departments.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse, type GraphQLError } from 'graphql';
import type { GraphQLRequestContextDidResolveOperation, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { registry } from '../subgraphs/registry/index.ts';
import { departmentSchema } from '../subgraphs/runtime/server.ts';
import {
  callIdentityOf,
  departmentStages,
  type DepartmentStage,
  type PolicyContext,
} from '../subgraphs/runtime/enforcement.ts';
import type { FastifyRequest } from 'fastify';
import { ASSERTION_HEADER, createAssertionVerifier } from '../lib/identity/assertion.ts';
import type { PolicyRuntime } from '../lib/policy/releases/policy-in-force.ts';
import type { CompiledPolicy } from '../lib/policy/decision/model.ts';
import { documentHash } from '../lib/graphql/document-hash.ts';
import { shippedPolicy, signerKeyId, signerPublicKeyPem } from './support/pipeline.ts';

const schema = departmentSchema(registry);
let policy: CompiledPolicy;
let stages: DepartmentStage[];
before(async () => {
  policy = await shippedPolicy();
  stages = departmentStages(schema);
});

const stage = (name: string): DepartmentStage => {
  const found = stages.find((candidate) => candidate.name === name);
  assert.ok(found, `a stage named ${name}`);
  return found;
};

function resolvedRequest(
  query: string,
  consumer: string,
  purpose: string,
): GraphQLRequestContextDidResolveOperation<PolicyContext> {
  const view = policy.view(consumer, purpose);
  assert.ok(view);
  return {
    document: parse(query),
    source: query,
    queryHash: documentHash(query),
    operationName: null,
    contextValue: { view, policyVersion: policy.version, now: new Date() },
  } as unknown as GraphQLRequestContextDidResolveOperation<PolicyContext>;
}

describe("a department's enforcement stages", () => {
  it('are listed in the order a request meets them', () => {
    assert.deepEqual(
      stages.map(({ name }) => name),
      ['operation guard', 'shield', 'served subjects', 'record rules', 'masks'],
    );
    assert.deepEqual(
      stages.filter((candidate) => candidate.middleware).map(({ name }) => name),
      ['shield', 'served subjects', 'record rules'],
    );
  });

  it('start with identity when built as a department builds them: an unsigned or forged call is refused before Redis or the policy is asked', async () => {
    const notReached = (what: string) => (): never =>
      assert.fail(`${what} asked for a call the assertion check refuses`);
    const withIdentity = departmentStages(schema, {
      identity: {
        department: 'registry',
        assertions: createAssertionVerifier({ publicKeys: { [signerKeyId]: signerPublicKeyPem } }),
        replayGuard: { claim: notReached('the replay guard') },
        policies: { version: notReached('the policy runtime') } as unknown as PolicyRuntime,
      },
    });
    assert.deepEqual(
      withIdentity.map(({ name }) => name),
      ['identity', 'operation guard', 'shield', 'served subjects', 'record rules', 'masks'],
    );
    const identify = callIdentityOf(withIdentity);
    const call = (assertion?: string) =>
      identify({
        headers: assertion ? { [ASSERTION_HEADER]: assertion } : {},
        body: { query: '{ subject(uscc: "x") { name } }' },
      } as unknown as FastifyRequest);
    await assert.rejects(call(), (error: GraphQLError) => error.extensions.code === 'ASSERTION_MISSING');
    await assert.rejects(call('a.b.c'), (error: GraphQLError) => error.extensions.code === 'ASSERTION_INVALID');
    assert.throws(() => callIdentityOf(stages), /identity stage/);
  });

  it('operation guard: refuses an operation with a denied field before anything executes', async () => {
    const state = {};
    const request = resolvedRequest(
      '{ _entities(representations: []) { ... on Subject { legalRepresentative { phone } } } }',
      'public-portal',
      'PUBLIC_DISCLOSURE',
    );
    await assert.rejects(
      async () => stage('operation guard').resolved?.(request, state),
      (error: GraphQLError) =>
        error.extensions.code === 'FORBIDDEN' &&
        JSON.stringify(error.extensions.deniedFields) === '["LegalRepresentative.phone"]',
    );
  });

  it('masks: rewrite each masked field the guard found, wherever the answer holds it', async () => {
    const state = {};
    const request = resolvedRequest(
      '{ _entities(representations: []) { ... on Subject { legalRepresentative { name idNumber } } } }',
      'public-portal',
      'PUBLIC_DISCLOSURE',
    );
    await stage('operation guard').resolved?.(request, state);
    const data = {
      _entities: [
        { legalRepresentative: { name: 'Rep', idNumber: '110101199003074518' } },
        { legalRepresentative: null },
      ],
    };
    const sent = {
      response: { body: { kind: 'single', singleResult: { data } } },
    } as unknown as GraphQLRequestContextWillSendResponse<PolicyContext>;
    await stage('masks').finish?.(sent, state);
    const masked = data._entities[0]?.legalRepresentative?.idNumber;
    assert.notEqual(masked, '110101199003074518');
    assert.equal(data._entities[0]?.legalRepresentative?.name, 'Rep');
    assert.equal(data._entities[1]?.legalRepresentative, null);
  });
});

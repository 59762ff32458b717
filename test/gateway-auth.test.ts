/**
 * Who may ask, through HTTP: the gateway's answers to missing, unknown, revoked and expired
 * credentials and to undeclared or foreign purposes; sign-in with a token from a trusted issuer;
 * introspection that shows each consumer only its own schema; and departments that answer only
 * requests the gateway signed, enforcing the policy themselves.
 *
 * The test adds its own keys to the federation's policy copy (a revoked, an expired and a
 * not-yet-valid API key for the tax bureau, and its own key pair for the courts' token issuer)
 * and publishes the change as a deployment does, through the shared store. The last test
 * publishes a version from another copy of the files, as another gateway instance would, and
 * expects the token issuer's keys of that version to be the ones used.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateApiKey, hashApiKey } from '../lib/identity/api-keys.ts';
import {
  ASSERTION_HEADER,
  createAssertionSigner,
  generateAssertionKeyPair,
  type AssertionIdentity,
} from '../lib/identity/assertion.ts';
import { seedSubject, type SeedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, startFederation, type Federation } from './support/federation.ts';
import { assertRefused, post, send, type HttpAnswer } from './support/http.ts';
import { addApiKeys, publishPolicyChange } from './support/policy-change.ts';
import { courtToken as signCourtToken, newIssuerKey, type IssuerKey } from './support/tokens.ts';

/** A subject of the seed data (index 1 exists in any seed run of 2 subjects or more). */
const SUBJECT: SeedSubject = seedSubject(1);

const SUBJECT_QUERY = `{ subject(uscc: "${SUBJECT.uscc}") { name legalRepresentative { name phone } } }`;

describe('the gateway over HTTP', () => {
  let federation: Federation;
  /** The courts' issuer key pair made for this test: the shipped JWKS has no private half. */
  let issuerKey: IssuerKey;
  const keys = { revoked: generateApiKey(), expired: generateApiKey(), notYetValid: generateApiKey() };
  /** Added with the others and valid: shows the change that added them is in force. */
  const addedKey = generateApiKey();

  /** A token from the courts' identity provider (or whoever signs with `key`). */
  const courtToken = (claims: Parameters<typeof signCourtToken>[1], key: IssuerKey = issuerKey): Promise<string> =>
    signCourtToken(key, claims);

  const gateway = (headers: Record<string, string>, query = SUBJECT_QUERY): Promise<HttpAnswer> =>
    post(federation.gateway.graphqlUrl, headers, query);
  const apiKey = (consumer: string): string => {
    const key = federation.apiKeys.get(consumer);
    if (!key) throw new Error(`no demo key for ${consumer}`);
    return key;
  };

  before(async () => {
    federation = await startFederation({ subjects: 20 });
    issuerKey = await newIssuerKey('test-court-idp-1');
    await writeFile(
      join(federation.policiesDir, 'keys', 'court-idp.jwks.json'),
      JSON.stringify({ keys: [issuerKey.jwk] }),
    );
    await addApiKeys(federation.policiesDir, 'tax-bureau', [
      { id: 'tax-bureau-leaked', sha256: hashApiKey(keys.revoked), revoked: true },
      { id: 'tax-bureau-2025', sha256: hashApiKey(keys.expired), notAfter: '2026-01-01' },
      { id: 'tax-bureau-2099', sha256: hashApiKey(keys.notYetValid), notBefore: '2099-01-01' },
      { id: 'tax-bureau-2026c', sha256: hashApiKey(addedKey), notBefore: '2026-01-01' },
    ]);
    await publishPolicyChange(federation);
  });
  after(() => federation.close());

  describe('authentication', () => {
    it('answers a request without credentials with 401 CREDENTIALS_REQUIRED and no data', async () => {
      assertRefused(await gateway({}), 401, 'CREDENTIALS_REQUIRED');
    });

    it('answers an unknown API key with 401 INVALID_API_KEY and does not echo the key', async () => {
      const key = generateApiKey();
      const answer = await gateway({ 'x-api-key': key });
      assertRefused(answer, 401, 'INVALID_API_KEY');
      assert.ok(!answer.text.includes(key), 'the key is not echoed');
    });

    it('serves the tax bureau with a valid key added in the same change, and with its demo key', async () => {
      for (const key of [addedKey, apiKey('tax-bureau')]) {
        const answer = await gateway({ 'x-api-key': key });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.errors, undefined);
        assert.equal((answer.body.data?.subject as { name: string } | null)?.name, SUBJECT.name);
      }
    });

    it('answers a revoked, an expired and a not-yet-valid key exactly as an unknown one (401 INVALID_API_KEY)', async () => {
      const unknown = await gateway({ 'x-api-key': generateApiKey() });
      for (const [name, key] of Object.entries(keys)) {
        const answer = await gateway({ 'x-api-key': key });
        assertRefused(answer, 401, 'INVALID_API_KEY');
        assert.equal(
          answer.body.errors?.[0]?.message,
          unknown.body.errors?.[0]?.message,
          `the ${name} key is not told apart from an unknown one`,
        );
        assert.doesNotMatch(answer.text, /tax-bureau/, `the ${name} key's id and consumer are not named`);
      }
    });

    it('refuses X-Api-Key together with Authorization with 401 AMBIGUOUS_CREDENTIALS, even when both are valid', async () => {
      const token = await courtToken({});
      assertRefused(
        await gateway({ 'x-api-key': apiKey('court-enforcement'), authorization: `Bearer ${token}` }),
        401,
        'AMBIGUOUS_CREDENTIALS',
      );
    });

    it("serves a request without a declared purpose under the consumer's default purpose", async () => {
      const answer = await gateway({ 'x-api-key': apiKey('court-enforcement') });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.errors, undefined);
      // Court enforcement's default purpose, ENFORCEMENT, shows the legal representative's phone.
      assert.deepEqual(answer.body.data?.subject, {
        name: SUBJECT.name,
        legalRepresentative: { name: SUBJECT.legalRepresentative.name, phone: SUBJECT.legalRepresentative.phone },
      });
    });

    it("refuses a purpose the consumer is not allowed with 403 PURPOSE_NOT_ALLOWED, another consumer's purpose included", async () => {
      for (const purpose of ['ENFORCEMENT', 'NOT_A_PURPOSE']) {
        const answer = await gateway({ 'x-api-key': apiKey('tax-bureau'), 'x-credence-purpose': purpose });
        assertRefused(answer, 403, 'PURPOSE_NOT_ALLOWED');
        assert.match(answer.body.errors?.[0]?.message ?? '', /Allowed purposes: TAX_ADMINISTRATION\./);
      }
    });

    it('refuses two declared purposes (two X-Credence-Purpose headers) with 403 PURPOSE_NOT_ALLOWED', async () => {
      const answer = await send(federation.gateway.graphqlUrl, {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ['x-api-key', apiKey('tax-bureau')],
          ['x-credence-purpose', 'TAX_ADMINISTRATION'],
          ['x-credence-purpose', 'ENFORCEMENT'],
        ],
        body: JSON.stringify({ query: SUBJECT_QUERY }),
      });
      // HTTP joins repeated headers into one "a, b" value: that is no single allowed purpose either.
      assertRefused(answer, 403, 'PURPOSE_NOT_ALLOWED');
    });
  });

  describe('tokens from a trusted issuer', () => {
    it("serves court enforcement signed in with a token from the courts' identity provider, under its own policy", async () => {
      const answer = await gateway({ authorization: `Bearer ${await courtToken({})}` });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.errors, undefined);
      assert.deepEqual(answer.body.data?.subject, {
        name: SUBJECT.name,
        legalRepresentative: { name: SUBJECT.legalRepresentative.name, phone: SUBJECT.legalRepresentative.phone },
      });
    });

    it('answers an expired token with 401 TOKEN_EXPIRED', async () => {
      const expired = Math.floor(Date.now() / 1000) - 600;
      assertRefused(
        await gateway({ authorization: `Bearer ${await courtToken({ exp: expired })}` }),
        401,
        'TOKEN_EXPIRED',
      );
    });

    it('answers a token from an issuer not in the policy with 401 UNKNOWN_ISSUER', async () => {
      const token = await courtToken({ iss: 'https://idp.elsewhere.example' });
      assertRefused(await gateway({ authorization: `Bearer ${token}` }), 401, 'UNKNOWN_ISSUER');
    });

    it("answers a token in the issuer's name but signed with another key with 401 INVALID_TOKEN", async () => {
      // Same key id as the issuer's real key: a forgery attempt.
      const stranger = await newIssuerKey(issuerKey.kid);
      assertRefused(await gateway({ authorization: `Bearer ${await courtToken({}, stranger)}` }), 401, 'INVALID_TOKEN');
    });

    it('answers a token for another audience with 401 INVALID_TOKEN', async () => {
      assertRefused(
        await gateway({ authorization: `Bearer ${await courtToken({ aud: 'another-service' })}` }),
        401,
        'INVALID_TOKEN',
      );
    });

    it('answers a valid token whose subject is no consumer with 401 UNKNOWN_SUBJECT', async () => {
      assertRefused(
        await gateway({ authorization: `Bearer ${await courtToken({ sub: 'court-clerk-17' })}` }),
        401,
        'UNKNOWN_SUBJECT',
      );
    });
  });

  describe('introspection shows each consumer its own schema', () => {
    const fieldsOf = async (consumer: string, typeName: string): Promise<string[] | null> => {
      const answer = await gateway(
        { 'x-api-key': apiKey(consumer) },
        `{ __type(name: "${typeName}") { fields { name } } }`,
      );
      assert.equal(answer.body.errors, undefined, answer.text);
      const type = answer.body.data?.__type as { fields: { name: string }[] } | null;
      return type ? type.fields.map((field) => field.name).sort() : null;
    };
    const typesOf = async (consumer: string): Promise<string[]> => {
      const answer = await gateway({ 'x-api-key': apiKey(consumer) }, '{ __schema { types { name } } }');
      assert.equal(answer.body.errors, undefined, answer.text);
      return (answer.body.data?.__schema as { types: { name: string }[] }).types.map((type) => type.name);
    };

    it('shows the public portal a LegalRepresentative without phone, and court enforcement one with it', async () => {
      assert.deepEqual(await fieldsOf('public-portal', 'LegalRepresentative'), ['idNumber', 'name']);
      assert.deepEqual(await fieldsOf('court-enforcement', 'LegalRepresentative'), ['idNumber', 'name', 'phone']);
    });

    it('shows the privacy office a schema without AnnualReport or any business type', async () => {
      const types = await typesOf('privacy-office');
      for (const hidden of [
        'AnnualReport',
        'LegalRepresentative',
        'TaxPayment',
        'AdministrativePenalty',
        'SeriousDishonestyListing',
      ]) {
        assert.ok(!types.includes(hidden), `${hidden} is not in the privacy office's schema`);
      }
      assert.ok(types.includes('Subject'), 'Subject (with its code) is');
      assert.equal(await fieldsOf('privacy-office', 'AnnualReport'), null);
      assert.ok(
        (await typesOf(INSPECTOR.consumer)).includes('AnnualReport'),
        'a consumer allowed annual reports does see the type',
      );
    });

    it('never suggests a hidden field in an unknown-field error', async () => {
      for (const [consumer, query] of [
        ['public-portal', `{ subject(uscc: "${SUBJECT.uscc}") { legalRepresentative { phon } } }`],
        ['privacy-office', `{ subject(uscc: "${SUBJECT.uscc}") { annualReport { revenue } } }`],
        ['procurement-centre', `{ subject(uscc: "${SUBJECT.uscc}") { taxPayment { amount } } }`],
      ] as const) {
        const answer = await gateway({ 'x-api-key': apiKey(consumer) }, query);
        assert.equal(answer.status, 400, answer.text);
        assert.equal(answer.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
        assert.doesNotMatch(
          answer.text,
          /Did you mean|"phone"|annualReports|taxPayments/,
          `${consumer}: no hint at a hidden field`,
        );
      }
    });

    it('refuses introspection mixed with data fields with BAD_REQUEST and no data', async () => {
      const answer = await gateway(
        { 'x-api-key': apiKey('public-portal') },
        `{ __schema { types { name } } subject(uscc: "${SUBJECT.uscc}") { name } }`,
      );
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'BAD_REQUEST', answer.text);
      assert.equal(answer.body.data ?? null, null);
      assert.ok(!answer.text.includes(SUBJECT.name), 'no subject data');
    });
  });

  describe('direct access to a department', () => {
    let registryUrl: string;
    const registry = (headers: Record<string, string>, query = SUBJECT_QUERY): Promise<HttpAnswer> =>
      post(registryUrl, headers, query);
    /** A call to the registry with `query`, as the gateway binds its assertion. */
    const toRegistry = (query = SUBJECT_QUERY) => ({ audience: 'registry', request: { query } });
    const identity = (
      consumer: string,
      purpose: string,
      policyVersion = federation.policies.current().version,
    ): AssertionIdentity => ({ consumer, purpose, policyVersion, requestId: `test-${consumer}` });
    /** Nothing of the subject's legal representative in the answer. */
    const assertNoPersonalData = (answer: HttpAnswer): void => {
      assert.ok(!answer.text.includes(SUBJECT.legalRepresentative.phone), 'no phone');
      assert.ok(!answer.text.includes(SUBJECT.legalRepresentative.name), 'no name');
    };

    before(() => {
      const url = federation.subgraphs.get('registry')?.graphqlUrl;
      if (!url) throw new Error('no registry subgraph');
      registryUrl = url;
    });

    it("answers a request without the gateway's assertion with 401 ASSERTION_MISSING and no data", async () => {
      const answer = await registry({});
      assertRefused(answer, 401, 'ASSERTION_MISSING');
      assertNoPersonalData(answer);
    });

    it('ignores identity headers and API keys: only the assertion counts (401 ASSERTION_MISSING)', async () => {
      const answer = await registry({
        'x-consumer-id': 'court-enforcement',
        'x-credence-consumer': 'court-enforcement',
        'x-credence-purpose': 'ENFORCEMENT',
        'x-api-key': apiKey('court-enforcement'),
      });
      assertRefused(answer, 401, 'ASSERTION_MISSING');
      assertNoPersonalData(answer);
    });

    it('answers an assertion signed with another key with 401 ASSERTION_INVALID, whatever key id it names', async () => {
      const genuine = federation.signAssertion(identity('court-enforcement', 'ENFORCEMENT'), toRegistry());
      const gatewayKeyId = (
        JSON.parse(Buffer.from(genuine.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid: string }
      ).kid;
      const stranger = generateAssertionKeyPair();
      for (const keyId of [stranger.keyId, gatewayKeyId]) {
        const forged = createAssertionSigner({ privateKey: stranger.privateKeyPem, keyId }).sign(
          identity('court-enforcement', 'ENFORCEMENT'),
          toRegistry(),
        );
        const answer = await registry({ [ASSERTION_HEADER]: forged });
        assertRefused(answer, 401, 'ASSERTION_INVALID');
        assertNoPersonalData(answer);
      }
    });

    it('answers an expired assertion with 401 ASSERTION_EXPIRED', async () => {
      const stale = federation.signAssertion(
        identity('court-enforcement', 'ENFORCEMENT'),
        toRegistry(),
        new Date(Date.now() - 120_000),
      );
      const answer = await registry({ [ASSERTION_HEADER]: stale });
      assertRefused(answer, 401, 'ASSERTION_EXPIRED');
      assertNoPersonalData(answer);
    });

    it("enforces the asserted consumer's policy itself: the public portal asking for LegalRepresentative.phone gets FORBIDDEN and no phone", async () => {
      const query = `{ subject(uscc: "${SUBJECT.uscc}") { name legalRepresentative { name phone } } }`;
      const assertion = federation.signAssertion(identity('public-portal', 'PUBLIC_DISCLOSURE'), toRegistry(query));
      const answer = await registry({ [ASSERTION_HEADER]: assertion }, query);
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', answer.text);
      assert.deepEqual(answer.body.errors?.[0]?.extensions?.deniedFields, ['LegalRepresentative.phone']);
      assert.equal(answer.body.data ?? null, null, 'the whole operation is refused');
      assertNoPersonalData(answer);
    });

    it('masks for the asserted consumer itself: the public portal gets the ID number masked from the department', async () => {
      const query = `{ subject(uscc: "${SUBJECT.uscc}") { legalRepresentative { name idNumber } } }`;
      const assertion = federation.signAssertion(identity('public-portal', 'PUBLIC_DISCLOSURE'), toRegistry(query));
      const answer = await registry({ [ASSERTION_HEADER]: assertion }, query);
      assert.equal(answer.body.errors, undefined, answer.text);
      const id = SUBJECT.legalRepresentative.idNumber;
      assert.deepEqual(answer.body.data?.subject, {
        legalRepresentative: {
          name: SUBJECT.legalRepresentative.name,
          idNumber: `${id.slice(0, 4)}${'*'.repeat(10)}${id.slice(-4)}`,
        },
      });
    });

    it('answers an assertion for a policy version it does not know with 503 POLICY_VERSION_UNAVAILABLE', async () => {
      const assertion = federation.signAssertion(
        identity('court-enforcement', 'ENFORCEMENT', '0123456789abcdef'),
        toRegistry(),
      );
      const answer = await registry({ [ASSERTION_HEADER]: assertion });
      assertRefused(answer, 503, 'POLICY_VERSION_UNAVAILABLE');
      assertNoPersonalData(answer);
    });
  });

  // Last: it changes the policy in force again.
  describe('issuer keys travel with the policy version', () => {
    it('verifies tokens with the issuer keys of the version in force, also when another process published that version', async () => {
      // Another gateway instance, with its own copy of the policy files, rotates the courts' key
      // and publishes the change; this federation activates it on the announcement.
      const otherDir = join(await mkdtemp(join(tmpdir(), 'credence-other-instance-')), 'policies');
      try {
        await cp(federation.policiesDir, otherDir, { recursive: true });
        const rotated = await newIssuerKey('test-court-idp-2');
        await writeFile(join(otherDir, 'keys', 'court-idp.jwks.json'), JSON.stringify({ keys: [rotated.jwk] }));
        const version = await publishPolicyChange(federation, otherDir);
        assert.equal(federation.policies.current().version, version);

        const answer = await gateway({ authorization: `Bearer ${await courtToken({}, rotated)}` });
        assert.equal(
          answer.status,
          200,
          `a token signed with the key of version ${version} is accepted (body: ${answer.text})`,
        );
        assert.equal(answer.body.errors, undefined);
        assertRefused(await gateway({ authorization: `Bearer ${await courtToken({})}` }), 401, 'INVALID_TOKEN');
      } finally {
        await rm(dirname(otherDir), { recursive: true, force: true });
      }
    });
  });
});

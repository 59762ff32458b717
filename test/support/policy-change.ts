/**
 * Changes the policy of a running test federation the way a deployment does: files in its
 * policies folder are edited, then read, validated and announced through the shared store by a
 * policy runtime of their own (as another gateway or subgraph process would), and the federation's
 * gateway and subgraphs activate the new version on the announcement.
 *
 * This lets a test use a policy of its own (extra API keys, its own token issuer key) without a
 * federation helper of its own: `startFederation` copies the shipped policies and watches nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSeq, parseDocument, type Document } from 'yaml';
import { createLogger } from '../../lib/logger.ts';
import { readFileSync } from 'node:fs';
import { buildApiSchema } from '../../lib/policy/decision/api-schema.ts';
import { readPolicyBundle } from '../../lib/policy/loading/bundle.ts';
import { DEFAULT_SUPERGRAPH_PATH, redisNamespace } from '../../lib/policy/releases/process-policy.ts';
import { formatProblem } from '../../lib/policy/loading/problems.ts';
import { releasesDirectory } from '../../lib/policy/releases/signed-release.ts';
import { makeRelease } from '../../lib/policy/officers/releaser.ts';
import { connectSharedStore } from '../../lib/stores/shared-store.ts';
import { everyTypePattern, type Federation } from './federation.ts';

/** An API key entry as consumers.yaml writes it. */
export interface ApiKeyEntry {
  id: string;
  sha256: string;
  notBefore?: string;
  notAfter?: string;
  revoked?: boolean;
}

/** Edits one consumer's entry in `consumers.yaml` of a policies folder (comments are kept). */
async function editConsumer(
  policiesDir: string,
  consumerId: string,
  edit: (document: Document, index: number) => void,
): Promise<void> {
  const path = join(policiesDir, 'consumers.yaml');
  const document = parseDocument(await readFile(path, 'utf8'));
  const consumers = document.get('consumers');
  if (!isSeq(consumers)) throw new Error('consumers.yaml has no consumers list');
  const index = consumers.items.findIndex((_item, i) => document.getIn(['consumers', i, 'id']) === consumerId);
  if (index < 0) throw new Error(`consumers.yaml has no consumer ${consumerId}`);
  edit(document, index);
  await writeFile(path, document.toString());
}

/** Adds API keys to a consumer. */
export function addApiKeys(policiesDir: string, consumerId: string, keys: readonly ApiKeyEntry[]): Promise<void> {
  return editConsumer(policiesDir, consumerId, (document, index) => {
    for (const key of keys) document.addIn(['consumers', index, 'credentials', 'apiKeys'], document.createNode(key));
  });
}

/** Sets top-level fields of a consumer's entry (for example `limits` or `persistedOperationsOnly`). */
export function setConsumerFields(
  policiesDir: string,
  consumerId: string,
  fields: Record<string, unknown>,
): Promise<void> {
  return editConsumer(policiesDir, consumerId, (document, index) => {
    for (const [name, value] of Object.entries(fields))
      document.setIn(['consumers', index, name], document.createNode(value));
  });
}

/** Removes top-level fields from a consumer's entry (for example its `defaultPurpose`). */
export function removeConsumerFields(policiesDir: string, consumerId: string, names: readonly string[]): Promise<void> {
  return editConsumer(policiesDir, consumerId, (document, index) => {
    for (const name of names) document.deleteIn(['consumers', index, name]);
  });
}

/**
 * What the second purpose leaves out: the trade secrets, which the shipped policy denies to most
 * consumers by a rule no wildcard overrides (rules.yaml, set trade-secrets), written here by hand.
 */
export const SEES_EVERYTHING_BUT: readonly string[] = [
  'Subject.annualReports',
  'AnnualReport.*',
  'Subject.taxPayments',
  'TaxPayment.*',
];

/**
 * Gives consumers a second purpose, TESTING (the test inspector's), under which they may see every
 * field that no rule for all their purposes denies (trade secrets and ID numbers stay denied to
 * those the shared rules protect). A field they are denied under their own purpose only then
 * exists for them (they may see it under TESTING), so it is refused as FORBIDDEN (reject) or
 * answered null (filter) rather than failing validation as a field they may see under none.
 */
export async function addPurposeSeeingEverything(policiesDir: string, consumerIds: readonly string[]): Promise<void> {
  for (const id of consumerIds) {
    await editConsumer(policiesDir, id, (document, index) => {
      document.addIn(['consumers', index, 'purposes'], 'TESTING');
    });
  }
  await writeFile(
    join(policiesDir, 'test-second-purpose.yaml'),
    [
      'rules:',
      '  - id: test-second-purpose-everything',
      '    description: Under the test purpose these consumers see every field.',
      `    consumers: [${consumerIds.join(', ')}]`,
      '    purposes: [TESTING]',
      // Trade secrets stay denied to everyone the shared rule protects (a wildcard could not override its wildcards).
      `    allow: [${everyTypePattern()
        .filter((pattern) => !SEES_EVERYTHING_BUT.includes(pattern))
        .join(', ')}]`,
      '',
    ].join('\n'),
  );
}

/**
 * Releases what a policies folder holds now (by default the federation's own), signed with the
 * federation's release key under the next number, and waits until the federation runs under it.
 * Returns the new policy version. Releasing another folder is what an officer's workstation, with
 * its own copy of the files, does.
 */
export async function publishPolicyChange(
  federation: Federation,
  dir = federation.policiesDir,
  timeoutMs = 5000,
): Promise<string> {
  const log = createLogger('test-policy-change');
  const before = federation.policies.current().version;
  const sharedStore = await connectSharedStore(log);
  try {
    if (sharedStore.kind !== 'redis') {
      throw new Error(
        'no Redis: a policy change cannot reach the federation through an in-memory shared store of another connection',
      );
    }
    const outcome = await makeRelease({
      files: await readPolicyBundle(dir),
      // The test's own change is what is released; the shipped policy tests are not its business.
      tests: new Map(),
      schema: buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8')),
      key: federation.releaseKeys.key,
      trustedKeys: federation.releaseKeys.trusted,
      releasesDir: releasesDirectory(dir, {}),
      sharedStore,
      namespace: redisNamespace(),
    });
    if (outcome.kind === 'invalid')
      throw new Error(`the changed policy is invalid:\n${outcome.problems.map(formatProblem).join('\n')}`);
    if (outcome.kind !== 'released') throw new Error(`nothing released: ${outcome.kind}`);
    if (outcome.version === before) throw new Error('the policy files did not change: nothing to publish');
    const deadline = Date.now() + timeoutMs;
    while (federation.policies.current().version !== outcome.version) {
      if (Date.now() > deadline)
        throw new Error(`the federation did not activate policy version ${outcome.version} within ${timeoutMs} ms`);
      await sleep(20);
    }
    return outcome.version;
  } finally {
    await sharedStore.close();
  }
}

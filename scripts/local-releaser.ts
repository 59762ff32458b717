/**
 * `npm start`'s policy releaser, for development on one machine. Releases are signed, always;
 * here the release key is a local one kept in `.data/` (made on the first start), the folder's
 * policy is released at start, and every valid saved change after that, so that a save goes live
 * within a couple of seconds as an officer trying the product expects. A deployment does not run
 * this: its officers release with `npm run policy -- release` and their own key.
 */
import { createPublicKey } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { generateEd25519KeyPair } from '../lib/identity/ed25519-keys.ts';
import type { Logger } from '../lib/logger.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { readPolicyBundle } from '../lib/policy/loading/bundle.ts';
import { redisNamespace } from '../lib/policy/releases/process-policy.ts';
import { readPolicyTestFiles } from '../lib/policy/officers/policy-tests.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import { releaseKeyFromPem, type ReleaseKey } from '../lib/policy/releases/signed-release.ts';
import { makeRelease, releaseOnSave } from '../lib/policy/officers/releaser.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { DATA_DIRECTORY } from './stack.ts';

export const LOCAL_RELEASE_KEY_PATH = join(DATA_DIRECTORY, 'release-key.pem');
/** Where `npm start` keeps this machine's releases (POLICY_RELEASES_DIR for the processes it starts). */
export const LOCAL_RELEASES_DIR = join(DATA_DIRECTORY, 'releases');

/** The local release key, made on first use; readable by its owner only. */
export async function localReleaseKey(): Promise<{ key: ReleaseKey; publicKeyPem: string }> {
  let pem: string;
  try {
    pem = await readFile(LOCAL_RELEASE_KEY_PATH, 'utf8');
  } catch {
    pem = generateEd25519KeyPair().privateKeyPem;
    await mkdir(DATA_DIRECTORY, { recursive: true });
    await writeFile(LOCAL_RELEASE_KEY_PATH, pem, { mode: 0o600 });
    await chmod(LOCAL_RELEASE_KEY_PATH, 0o600);
  }
  const key = releaseKeyFromPem(pem, LOCAL_RELEASE_KEY_PATH);
  return { key, publicKeyPem: createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

export interface LocalReleaser {
  /** What every process started here trusts (CREDENCE_RELEASE_PUBLIC_KEYS). */
  publicKeyPem: string;
  close(): Promise<void>;
}

export async function startLocalReleaser(options: {
  log: Logger;
  policiesDir: string;
  releasesDir: string;
  supergraphPath: string;
}): Promise<LocalReleaser> {
  const { key, publicKeyPem } = await localReleaseKey();
  const sharedStore = await connectSharedStore(options.log);
  const common = {
    schema: buildApiSchema(readFileSync(options.supergraphPath, 'utf8')),
    key,
    trustedKeys: new Map([[key.keyId, createPublicKey(key.privateKey)]]),
    releasesDir: options.releasesDir,
    sharedStore,
    namespace: redisNamespace(),
  };
  const readTests = (): Promise<Map<string, string>> => readPolicyTestFiles(options.policiesDir);
  const first = await makeRelease({
    ...common,
    files: await readPolicyBundle(options.policiesDir),
    tests: await readTests(),
    note: 'npm start',
  });
  if (first.kind === 'invalid')
    throw new Error(
      `The policy in ${options.policiesDir} is invalid:\n${first.problems.map(formatProblem).join('\n')}`,
    );
  if (first.kind === 'tests-failed')
    throw new Error(`The policy tests fail:\n${first.results.flatMap((result) => result.failures).join('\n')}`);
  options.log.info(
    { number: first.kind === 'released' ? first.release.number : first.number },
    'local policy release in force; saved changes are released as they are made',
  );
  const watch = releaseOnSave({ ...common, dir: options.policiesDir, readTests, log: options.log });
  return {
    publicKeyPem,
    close: async () => {
      watch.close();
      await sharedStore.close();
    },
  };
}

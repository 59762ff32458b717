/**
 * Signed releases for tests and benchmarks: a release key of their own, and the policies folder
 * released under it, as `npm run policy -- release` would with the officers' key.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { generateEd25519KeyPair, type Ed25519KeyPair } from '../../lib/identity/ed25519-keys.ts';
import { readPolicyBundle } from '../../lib/policy/loading/bundle.ts';
import { DEFAULT_POLICIES_DIR } from '../../lib/policy/releases/process-policy.ts';
import {
  RELEASE_ENV,
  releaseKeyFromPem,
  signRelease,
  writeReleaseFile,
  type PolicyRelease,
  type ReleaseKey,
} from '../../lib/policy/releases/signed-release.ts';

export interface TestReleaseKey extends Ed25519KeyPair {
  key: ReleaseKey;
  /** Key id → public key, as a process configured with this key trusts it. */
  trusted: Map<string, KeyObject>;
  /** CREDENCE_RELEASE_PUBLIC_KEYS for a process that trusts this key. */
  env: Record<string, string>;
}

export function testReleaseKey(): TestReleaseKey {
  const pair = generateEd25519KeyPair();
  return {
    ...pair,
    key: releaseKeyFromPem(pair.privateKeyPem),
    trusted: new Map([[pair.keyId, createPublicKey(pair.publicKeyPem)]]),
    env: { [RELEASE_ENV.PUBLIC_KEYS]: pair.publicKeyPem },
  };
}

/** Signs what `policiesDir` holds as release `number` and writes it into `releasesDir`. */
export async function releaseFolder(
  policiesDir: string,
  releasesDir: string,
  key: TestReleaseKey,
  number = 1,
): Promise<PolicyRelease> {
  const release = signRelease({
    files: await readPolicyBundle(policiesDir),
    number,
    key: key.key,
    note: 'test release',
  });
  await writeReleaseFile(releasesDir, release);
  return release;
}

/** Copies of the shipped policies take its files, never a machine's own signed releases (`releases/`). */
export function isPolicySource(source: string): boolean {
  return !/[\\/]releases([\\/]|$)/.test(source.slice(DEFAULT_POLICIES_DIR.length));
}

/**
 * The console's view of policy releases, through lib/policy only: the release in force (the
 * highest signed release that verifies, as every process finds it), compiled with its rules'
 * places for explanations; earlier releases for rollbacks; and the one way a release is made,
 * `makeRelease`, which validates, runs the policy tests, signs and publishes.
 */
import type { KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { PolicyBundle } from '../lib/policy/loading/bundle.ts';
import { loadPolicyFromTexts, type PolicyLoadResult } from '../lib/policy/loading/load-policy.ts';
import {
  highestReleaseIn,
  parseJson,
  releaseFileName,
  verifyRelease,
  type PolicyRelease,
  type ReleaseKey,
} from '../lib/policy/releases/signed-release.ts';
import { readLatestRelease } from '../lib/policy/releases/release-store.ts';
import { makeRelease, type ReleaseOutcome } from '../lib/policy/officers/releaser.ts';
import { readPolicyTestFiles } from '../lib/policy/officers/policy-tests.ts';

export type LoadedPolicy = Extract<PolicyLoadResult, { ok: true }>;

export interface ReleaseInForce {
  release: PolicyRelease;
  loaded: LoadedPolicy;
}

export interface ReleaseDeskOptions {
  schema: GraphQLSchema;
  policiesDir: string;
  releasesDir: string;
  sharedStore: SharedStore;
  namespace: string;
  releaseKey: ReleaseKey;
  trustedKeys: ReadonlyMap<string, KeyObject>;
}

export interface ReleaseDesk {
  inForce(): Promise<ReleaseInForce>;
  /** Validates and compiles files as a release would be (problems at their line and column). */
  load(files: PolicyBundle): PolicyLoadResult;
  /** The releases of the release folder that verify, newest first. */
  list(): Promise<PolicyRelease[]>;
  numbered(number: number): Promise<PolicyRelease | undefined>;
  /** The policy tests of the policies folder (tests/*.yaml). */
  tests(): Promise<Map<string, string>>;
  release(files: PolicyBundle, tests: ReadonlyMap<string, string>, note: string): Promise<ReleaseOutcome>;
}

export function createReleaseDesk(options: ReleaseDeskOptions): ReleaseDesk {
  let cached: ReleaseInForce | undefined;
  const load = (files: PolicyBundle): PolicyLoadResult =>
    loadPolicyFromTexts(files, options.schema, {
      // JWKS files a policy names travel in the release; the folder's copy is only a fallback.
      readReferencedFile: () => undefined,
    });
  return {
    load,
    async inForce() {
      const inFolder = await highestReleaseIn(options.releasesDir, options.trustedKeys, () => {});
      const latest = await readLatestRelease(options.sharedStore, options.namespace, options.trustedKeys);
      const inStore = latest?.found?.check.ok ? latest.found.check.release : undefined;
      const release = [inFolder, inStore].filter((found) => found !== undefined).sort((a, b) => b.number - a.number)[0];
      if (!release) throw new Error('no signed release verifies: release the policy first (npm run policy -- release)');
      if (cached?.release.sha256 === release.sha256 && cached.release.number === release.number) return cached;
      const loaded = load(release.files);
      if (!loaded.ok)
        throw new Error(`release ${release.number} does not compile here: ${loaded.errors[0]?.message ?? ''}`);
      cached = { release, loaded };
      return cached;
    },
    async list() {
      const names = (await readdir(options.releasesDir).catch(() => [] as string[]))
        .filter((name) => /^release-\d+\.json$/.test(name))
        .sort()
        .reverse();
      const releases: PolicyRelease[] = [];
      for (const name of names) {
        const check = verifyRelease(
          parseJson(await readFile(join(options.releasesDir, name), 'utf8')),
          options.trustedKeys,
        );
        if (check.ok) releases.push(check.release);
      }
      return releases;
    },
    async numbered(number) {
      const text = await readFile(join(options.releasesDir, releaseFileName(number)), 'utf8').catch(() => undefined);
      if (text === undefined) return undefined;
      const check = verifyRelease(parseJson(text), options.trustedKeys);
      return check.ok ? check.release : undefined;
    },
    tests: () => readPolicyTestFiles(options.policiesDir),
    release: (files, tests, note) =>
      makeRelease({
        files,
        tests,
        schema: options.schema,
        key: options.releaseKey,
        trustedKeys: options.trustedKeys,
        releasesDir: options.releasesDir,
        sharedStore: options.sharedStore,
        namespace: options.namespace,
        note,
      }),
  };
}

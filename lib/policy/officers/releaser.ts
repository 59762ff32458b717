/**
 * Making a release: the policy files are validated against the supergraph, the policy tests
 * run, and the files are signed under the next number, written into the release folder and
 * published to the shared store. `npm run policy -- release` and `npm start`'s local releaser
 * (which signs each saved change, for development) both come here, so a release made either way
 * is the same thing, checked the same way.
 */
import type { KeyObject } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../../logger.ts';
import type { SharedStore } from '../../stores/shared-store.ts';
import { readPolicyBundle, type PolicyBundle } from '../loading/bundle.ts';
import { watchFolder, type FolderWatch } from '../releases/folder-watch.ts';
import { loadPolicyFromTexts } from '../loading/load-policy.ts';
import { parsePolicyTestFiles, runPolicyTests, type PolicyTestResult } from './policy-tests.ts';
import { formatProblem, type PolicyProblem } from '../loading/problems.ts';
import {
  highestReleaseIn,
  releaseDigest,
  signRelease,
  writeReleaseFile,
  type PolicyRelease,
  type ReleaseKey,
} from '../releases/signed-release.ts';
import { publishRelease, readLatestRelease } from '../releases/release-store.ts';

export interface ReleaseRequest {
  files: PolicyBundle;
  /** Policy test files (`tests/*.yaml`, by path), run against the policy before it is signed. */
  tests: ReadonlyMap<string, string>;
  schema: GraphQLSchema;
  key: ReleaseKey;
  /** The keys releases are verified with: the highest release so far is found among those that verify. */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  releasesDir: string;
  sharedStore: SharedStore;
  namespace: string;
  note?: string;
  now?: Date;
}

export type ReleaseOutcome =
  | { kind: 'released'; release: PolicyRelease; version: string; path: string; previous: number }
  | { kind: 'unchanged'; number: number }
  | { kind: 'invalid'; problems: readonly PolicyProblem[] }
  | { kind: 'tests-failed'; results: readonly PolicyTestResult[] };

/** The highest release number that verifies, in the folder or the shared store (0 when none). */
export async function highestReleaseNumber(
  request: Pick<ReleaseRequest, 'releasesDir' | 'trustedKeys' | 'sharedStore' | 'namespace'>,
): Promise<{ number: number; sha256?: string }> {
  const inFolder = await highestReleaseIn(request.releasesDir, request.trustedKeys, () => {});
  const latest = await readLatestRelease(request.sharedStore, request.namespace, request.trustedKeys);
  const inStore = latest?.found?.check.ok ? latest.found.check.release : undefined;
  const highest = [inFolder, inStore].filter((release) => release !== undefined).sort((a, b) => b.number - a.number)[0];
  return highest ? { number: highest.number, sha256: highest.sha256 } : { number: 0 };
}

export async function makeRelease(request: ReleaseRequest): Promise<ReleaseOutcome> {
  const loaded = loadPolicyFromTexts(request.files, request.schema);
  if (!loaded.ok) return { kind: 'invalid', problems: loaded.errors };
  const { cases, problems } = parsePolicyTestFiles(request.tests);
  if (problems.length > 0) return { kind: 'invalid', problems };
  const results = runPolicyTests(loaded.policy, request.schema, cases);
  if (!results.every((result) => result.passed)) return { kind: 'tests-failed', results };

  const highest = await highestReleaseNumber(request);
  if (highest.sha256 === releaseDigest(request.files)) return { kind: 'unchanged', number: highest.number };
  const release = signRelease({
    files: request.files,
    number: highest.number + 1,
    key: request.key,
    note: request.note ?? '',
    now: request.now ?? new Date(),
  });
  const path = await writeReleaseFile(request.releasesDir, release);
  await publishRelease(request.sharedStore, request.namespace, release, loaded.policy.version, request.trustedKeys);
  return { kind: 'released', release, version: loaded.policy.version, path, previous: highest.number };
}

/**
 * Development only (`npm start`): signs every valid saved change of the policies folder with the
 * local release key, so that a save goes live as it did before releases were signed. A change
 * that is invalid or fails its tests is reported and not released.
 */
export function releaseOnSave(
  options: Omit<ReleaseRequest, 'files' | 'tests' | 'note'> & {
    dir: string;
    readTests: () => Promise<Map<string, string>>;
    log: Logger;
  },
): FolderWatch {
  let lastDigest: string | undefined;
  return watchFolder(
    options.dir,
    async () => {
      const files = await readPolicyBundle(options.dir);
      const digest = releaseDigest(files);
      if (digest === lastDigest) return;
      lastDigest = digest;
      const outcome = await makeRelease({
        ...options,
        files,
        tests: await options.readTests(),
        note: 'saved change (npm start)',
      });
      if (outcome.kind === 'released')
        options.log.info({ number: outcome.release.number, version: outcome.version }, 'saved policy change released');
      if (outcome.kind === 'invalid')
        options.log.error(
          { errors: outcome.problems.map(formatProblem) },
          'policy change refused: the release in force stays',
        );
      if (outcome.kind === 'tests-failed')
        options.log.error(
          { failed: outcome.results.filter((result) => !result.passed).flatMap((result) => result.failures) },
          'policy change refused: its policy tests fail',
        );
    },
    { onError: (error) => options.log.error({ err: error }, 'releasing the saved policy change failed') },
  );
}

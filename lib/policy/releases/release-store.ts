/**
 * Where releases meet the shared store (Redis): the keys, publishing a release, and the table in
 * which every process reports the release it enforces. The shared store is untrusted storage:
 * everything read from it is verified (policy-in-force.ts) or shown as what a process claims (status).
 */
import type { KeyObject } from 'node:crypto';
import type { SharedStore } from '../../stores/shared-store.ts';
import { parseJson, verifyRelease, type PolicyRelease, type ReleaseCheck } from './signed-release.ts';
import type { ReleaseInForce } from './policy-in-force.ts';

export function releaseKeys(namespace: string): {
  release: (version: string) => string;
  latest: string;
  channel: string;
  processes: string;
} {
  return {
    release: (version) => `${namespace}:policy:release:${version}`,
    latest: `${namespace}:policy:latest`,
    channel: `${namespace}:policy:changed`,
    processes: `${namespace}:policy:processes`,
  };
}

/**
 * How long a published release stays fetchable. Every process publishes the release it starts
 * with and every release it activates from its folder, which renews it; a release nobody has
 * published for a month is referenced by no live request.
 */
const RELEASE_RETENTION_MS = 30 * 24 * 3600 * 1000;

/**
 * Stores a signed release under the policy version it compiles to and moves the latest pointer
 * to it. The pointer only moves forward (`raise`), so that of two releases published at once the
 * higher stays named; a pointer that names nothing verifiable (someone wrote it by hand, with a
 * huge number) is overwritten, so it cannot stop releases from being found.
 */
export async function storeRelease(
  store: SharedStore,
  namespace: string,
  release: PolicyRelease,
  version: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<void> {
  const keys = releaseKeys(namespace);
  await store.set(keys.release(version), JSON.stringify(release), RELEASE_RETENTION_MS);
  const latest = await readLatestRelease(store, namespace, trustedKeys);
  if (latest?.found?.check.ok) await store.raise(keys.latest, release.number, version);
  else await store.set(keys.latest, `${release.number} ${version}`);
}

/** Stores a signed release (`storeRelease`) and announces it to every process. */
export async function publishRelease(
  store: SharedStore,
  namespace: string,
  release: PolicyRelease,
  version: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<void> {
  await storeRelease(store, namespace, release, version, trustedKeys);
  await store.publish(releaseKeys(namespace).channel, version);
}

/** A process's entry in the shared table of processes. */
export interface ProcessReport {
  role: string;
  instance: string;
  release: ReleaseInForce;
  reportedAt: string;
}

/** A release published under a policy version, verified; undefined when nothing is stored there. */
export async function readPublishedRelease(
  store: SharedStore,
  namespace: string,
  version: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<{ check: ReleaseCheck; value: unknown } | undefined> {
  const stored = await store.get(releaseKeys(namespace).release(version));
  if (stored === null) return undefined;
  const value = parseJson(stored);
  return { check: verifyRelease(value, trustedKeys), value };
}

/** The release the latest pointer names, verified, and the rank the pointer claims. */
export async function readLatestRelease(
  store: SharedStore,
  namespace: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<{ rank: number; found?: { check: ReleaseCheck; value: unknown } } | undefined> {
  const latest = await store.ranked(releaseKeys(namespace).latest);
  if (!latest) return undefined;
  const found = await readPublishedRelease(store, namespace, latest.value, trustedKeys);
  return found ? { rank: latest.rank, found } : { rank: latest.rank };
}

/** A process that has not reported for this long has stopped, or lost the shared store. */
export const STALE_REPORT_MS = 10_000;

export interface FleetEntry extends ProcessReport {
  /** Why the process is behind: an older release than the newest any process enforces, or no report for too long. */
  stale: false | 'older release' | 'not reporting';
}

/** Every process's report, each marked stale when it is behind the others or silent. */
export async function readFleet(
  store: SharedStore,
  namespace: string,
  now = Date.now(),
): Promise<{ newest: number; processes: FleetEntry[] }> {
  const reports = Object.values(await store.hgetall(releaseKeys(namespace).processes))
    .map((text) => parseJson(text) as ProcessReport)
    .filter((report) => typeof report?.release?.number === 'number');
  const newest = Math.max(0, ...reports.map((report) => report.release.number));
  const processes = reports.map((report): FleetEntry => ({
    ...report,
    stale:
      report.release.number < newest
        ? 'older release'
        : now - Date.parse(report.reportedAt) > STALE_REPORT_MS
          ? 'not reporting'
          : false,
  }));
  processes.sort((a, b) => a.role.localeCompare(b.role) || a.instance.localeCompare(b.instance));
  return { newest, processes };
}

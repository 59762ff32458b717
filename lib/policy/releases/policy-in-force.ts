/**
 * The policy in force in one process, and how a release reaches every process.
 *
 * A process enforces only signed releases (signed-release.ts): at start the highest-numbered one that
 * verifies, from its release folder or from the shared store; afterwards a higher one, announced
 * on the shared store's channel, found there by the periodic refresh (should an announcement be
 * lost), or written into the release folder. Whatever arrives is verified against the trusted
 * release keys first: the shared store and the folder are storage, not authority. A forged,
 * re-signed, tampered or older release is refused and logged as a security event; the release in
 * force stays.
 *
 * Recent versions stay available, so a request is decided under the version it was checked
 * with even while a release is going round; a department asked for a version it does not hold
 * fetches that release from the shared store and verifies it like any other.
 *
 * Each process reports what it enforces into a shared table (`status.ts` reads it), so that a
 * process that fell behind is visible.
 */
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../../logger.ts';
import type { SharedStore } from '../../stores/shared-store.ts';
import type { PolicyBundle } from '../loading/bundle.ts';
import { watchFolder, type FolderWatch } from './folder-watch.ts';
import type { CompiledPolicy } from '../decision/model.ts';
import { highestReleaseIn, summarize, type PolicyRelease, type ReleaseSummary } from './signed-release.ts';
import {
  publishRelease,
  readLatestRelease,
  readPublishedRelease,
  releaseKeys,
  type ProcessReport,
} from './release-store.ts';

export type CompileResult = { ok: true; policy: CompiledPolicy } | { ok: false; errors: readonly string[] };

/** Turns a bundle into a compiled policy or the reasons it is invalid. */
export type PolicyCompiler = (bundle: PolicyBundle) => CompileResult | Promise<CompileResult>;

/** The release a process enforces, and since when. */
export interface ReleaseInForce extends ReleaseSummary {
  /** The compiled policy's version: what answers and identity assertions name. */
  version: string;
  since: string;
}

/** What a process says about its policy on its status endpoint. */
export interface PolicyStatus {
  release: ReleaseInForce;
  /** The highest release number the shared store pointed to at the last refresh (unverified until fetched). */
  latestAnnounced: number | null;
  /** When the shared store last answered a refresh. */
  refreshedAt: string | null;
  /** True when a higher release was announced than the one in force (it could not be verified or compiled here). */
  behind: boolean;
}

export interface PolicyRuntime {
  /** The version new requests are decided under. */
  current(): CompiledPolicy;
  /** A specific version: retained here, or fetched from the shared store (verified); undefined if unknown. */
  version(version: string): Promise<CompiledPolicy | undefined>;
  status(): PolicyStatus;
  /** Names this process in the shared table of processes (once it knows its address). */
  reportAs(identity: { role: string; instance: string }): void;
  /** Called after each activation of a new release. */
  onChange(listener: (policy: CompiledPolicy) => void): void;
  close(): Promise<void>;
}

export interface PolicyRuntimeOptions {
  compile: PolicyCompiler;
  sharedStore: SharedStore;
  log: Logger;
  /** The release keys whose signatures this process accepts (key id → public key). */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** The release folder: read at start, and watched when `watch` is on. */
  releasesDir: string;
  /** Watch the release folder (gateways and subgraphs do; one-off tools do not). */
  watch?: boolean;
  /** Namespace in the shared store, so separate deployments (or test runs) sharing a Redis never mix. */
  namespace: string;
  /** How often the shared store is asked for the latest release, and this process's report renewed. */
  refreshMs?: number;
}

const RETAINED_VERSIONS = 8;
export const DEFAULT_REFRESH_MS = 2000;

type Source = 'release folder' | 'shared store' | 'announcement';

export async function createPolicyRuntime(options: PolicyRuntimeOptions): Promise<PolicyRuntime> {
  const { log, sharedStore } = options;
  const keys = releaseKeys(options.namespace);
  const retained = new Map<string, CompiledPolicy>();
  const listeners: ((policy: CompiledPolicy) => void)[] = [];
  let latestAnnounced: number | null = null;
  let refreshedAt: string | null = null;
  let identity: { role: string; instance: string } | undefined;

  // The same bad release is met again at every refresh or look at the folder: it is reported once.
  const reported = new Set<string>();
  function securityEvent(
    source: string,
    refusal: { reason: string; detail: string },
    release?: Partial<PolicyRelease>,
  ): void {
    const key = [source, refusal.reason, release?.number, release?.sha256, refusal.detail].join('|');
    if (reported.has(key)) return;
    if (reported.size >= 1000) reported.clear();
    reported.add(key);
    log.warn(
      {
        securityEvent: 'policy-release-refused',
        reason: refusal.reason,
        source,
        number: release?.number,
        sha256: release?.sha256,
        keyId: release?.keyId,
      },
      `policy release refused (${refusal.reason}): ${refusal.detail}; the release in force stays`,
    );
  }

  function retain(policy: CompiledPolicy): void {
    retained.delete(policy.version);
    retained.set(policy.version, policy);
    while (retained.size > RETAINED_VERSIONS) retained.delete(retained.keys().next().value as string);
  }

  async function compileRelease(release: PolicyRelease): Promise<CompiledPolicy | undefined> {
    const result = await options.compile(release.files);
    if (result.ok) return result.policy;
    log.error(
      { number: release.number, errors: result.errors },
      'a signed policy release is invalid here (another supergraph?); the release in force stays',
    );
    return undefined;
  }

  async function readAnnounced(version: string, source: Source): Promise<PolicyRelease | undefined> {
    const found = await readPublishedRelease(sharedStore, options.namespace, version, options.trustedKeys);
    if (!found) return undefined;
    if (!found.check.ok) return void securityEvent(source, found.check, found.value as Partial<PolicyRelease>);
    return found.check.release;
  }

  async function latestInStore(): Promise<PolicyRelease | undefined> {
    const latest = await readLatestRelease(sharedStore, options.namespace, options.trustedKeys);
    latestAnnounced = latest?.rank ?? null;
    refreshedAt = new Date().toISOString();
    if (!latest?.found) return undefined;
    if (!latest.found.check.ok)
      return void securityEvent('shared store', latest.found.check, latest.found.value as Partial<PolicyRelease>);
    return latest.found.check.release;
  }

  const highestInFolder = (): Promise<PolicyRelease | undefined> =>
    highestReleaseIn(options.releasesDir, options.trustedKeys, (path, refusal) =>
      securityEvent(`release folder (${path})`, refusal),
    );

  // Start: the highest release that verifies, from the folder or the shared store.
  const [inFolder, inStore] = [await highestInFolder(), await latestInStore()];
  const candidates = [inFolder, inStore].filter((release) => release !== undefined).sort((a, b) => b.number - a.number);
  let active: { release: PolicyRelease; policy: CompiledPolicy; since: string } | undefined;
  for (const release of candidates) {
    const policy = await compileRelease(release);
    if (policy) {
      active = { release, policy, since: new Date().toISOString() };
      break;
    }
  }
  if (!active) {
    throw new Error(
      `No signed policy release to enforce: none in ${options.releasesDir} or in the shared store verifies with the trusted release keys. ` +
        'Sign one with `npm run policy -- release` (policies/README.md).',
    );
  }
  retain(active.policy);
  log.info({ number: active.release.number, version: active.policy.version }, 'policy release in force');
  // A release only this process had is made known to the others (they verify it like any other).
  if (!inStore || active.release.number > inStore.number)
    await publishRelease(sharedStore, options.namespace, active.release, active.policy.version, options.trustedKeys);

  function inForce(): NonNullable<typeof active> {
    if (!active) throw new Error('unreachable: the runtime has a release from its start');
    return active;
  }

  /** Activates a verified release if it is newer than the one in force; an older or conflicting one is a security event. */
  let considering: Promise<void> = Promise.resolve();
  function consider(release: PolicyRelease, source: Source): Promise<void> {
    considering = considering
      .then(async () => {
        const current = inForce().release;
        if (release.number === current.number && release.sha256 === current.sha256) return;
        if (release.number <= current.number) {
          return securityEvent(
            source,
            {
              reason: release.number === current.number ? 'CONFLICTING' : 'OLDER',
              detail: `release ${release.number} is not newer than release ${current.number} in force`,
            },
            release,
          );
        }
        const policy = await compileRelease(release);
        if (!policy) return;
        active = { release, policy, since: new Date().toISOString() };
        retain(policy);
        log.info({ number: release.number, version: policy.version, source }, 'policy release activated');
        for (const listener of listeners) listener(policy);
        await report();
      })
      .catch((error: unknown) => log.error({ err: error, source }, 'policy release could not be considered'));
    return considering;
  }

  async function considerStored(version: string, source: Source): Promise<void> {
    const found = await readPublishedRelease(sharedStore, options.namespace, version, options.trustedKeys);
    if (!found) return log.warn({ source }, 'announced policy release is not in the shared store');
    if (!found.check.ok) return securityEvent(source, found.check, found.value as Partial<PolicyRelease>);
    await consider(found.check.release, source);
  }

  async function report(): Promise<void> {
    if (!identity) return;
    const entry: ProcessReport = { ...identity, release: statusOf().release, reportedAt: new Date().toISOString() };
    await sharedStore.hset(keys.processes, identity.instance, JSON.stringify(entry));
  }

  function statusOf(): PolicyStatus {
    const { release, policy, since } = inForce();
    return {
      release: { ...summarize(release), version: policy.version, since },
      latestAnnounced,
      refreshedAt,
      behind: latestAnnounced !== null && latestAnnounced > release.number,
    };
  }

  await sharedStore.subscribe(keys.channel, (version) => {
    if (version !== inForce().policy.version) void considerStored(version, 'announcement');
  });

  // The refresh: a lost announcement (a dropped connection, a restarted Redis) delays a release by one interval at most.
  // Only the pointer is read while it names nothing newer: a release is fetched when one is due.
  const refresh = async (): Promise<void> => {
    const pointer = await sharedStore.ranked(keys.latest);
    latestAnnounced = pointer?.rank ?? null;
    refreshedAt = new Date().toISOString();
    if (pointer && pointer.rank > inForce().release.number) {
      const latest = await latestInStore();
      if (latest && latest.number > inForce().release.number) await consider(latest, 'shared store');
    }
    await report();
  };
  const refreshTimer = setInterval(() => {
    refresh().catch((error: unknown) =>
      log.warn({ reason: (error as Error).message }, 'policy refresh failed; retrying'),
    );
  }, options.refreshMs ?? DEFAULT_REFRESH_MS);
  refreshTimer.unref();

  let folderWatch: FolderWatch | undefined;
  if (options.watch) {
    folderWatch = watchFolder(
      options.releasesDir,
      async () => {
        const release = await highestInFolder();
        if (!release || release.number <= inForce().release.number) return;
        await consider(release, 'release folder');
        // The others learn of it from this process as from the releaser.
        const { release: now, policy } = inForce();
        if (now === release)
          await publishRelease(sharedStore, options.namespace, release, policy.version, options.trustedKeys);
      },
      { onError: (error) => log.error({ err: error }, 'reading the release folder failed') },
    );
  }

  return {
    current: () => inForce().policy,
    version: async (version) => {
      const known = retained.get(version);
      if (known) return known;
      // A version pinned by a request (it was in force at the gateway when the request was checked).
      const release = await readAnnounced(version, 'shared store');
      const policy = release ? await compileRelease(release) : undefined;
      if (!policy || policy.version !== version) return undefined;
      retain(policy);
      return policy;
    },
    status: statusOf,
    reportAs: (who) => {
      identity = who;
      void report().catch((error: unknown) =>
        log.warn({ reason: (error as Error).message }, 'policy status could not be reported'),
      );
    },
    onChange: (listener) => void listeners.push(listener),
    close: async () => {
      clearInterval(refreshTimer);
      folderWatch?.close();
      if (identity) await sharedStore.hdel(keys.processes, identity.instance).catch(() => {});
    },
  };
}

/**
 * The policy in force in one process, and how a change reaches every process.
 *
 * A saved change to the policy files is read, validated and compiled; an invalid change is
 * refused and the policy in force stays. A valid one is stored in the shared store under its
 * version and announced on a channel; every gateway and subgraph process (this one included)
 * activates it on the announcement. Recent versions stay available, so a request is decided
 * under the version it was checked with even while a change is going round.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../logger.ts';
import type { SharedStore } from '../stores/shared-store.ts';
import type { CompiledPolicy } from './model.ts';

/** The policy files, by path relative to the policies folder (with `/` separators). */
export type PolicyBundle = Readonly<Record<string, string>>;

export type CompileResult = { ok: true; policy: CompiledPolicy } | { ok: false; errors: readonly string[] };

/** Turns a bundle into a compiled policy or the reasons it is invalid. */
export type PolicyCompiler = (bundle: PolicyBundle) => CompileResult | Promise<CompileResult>;

export interface PolicyRuntime {
  /** The version new requests are decided under. */
  current(): CompiledPolicy;
  /** A specific version: retained here, or fetched from the shared store; undefined if unknown. */
  version(version: string): Promise<CompiledPolicy | undefined>;
  /** Called after each activation of a new version. */
  onChange(listener: (policy: CompiledPolicy) => void): void;
  close(): void;
}

export interface PolicyRuntimeOptions {
  dir: string;
  compile: PolicyCompiler;
  sharedStore: SharedStore;
  log: Logger;
  /** Watch the folder for saved changes (gateways and subgraphs do; one-off tools do not). */
  watch?: boolean;
  /** Namespace in the shared store, so separate deployments (or test runs) sharing a Redis never mix. */
  namespace?: string;
}

/** Policy test cases and documentation live beside the policy but are not part of it. */
function isPolicyFile(path: string): boolean {
  return !path.startsWith('tests/') && (path.endsWith('.yaml') || path.endsWith('.yml') || path.endsWith('.json'));
}

export async function readPolicyBundle(dir: string): Promise<PolicyBundle> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (isPolicyFile(path)) files[path] = await readFile(join(dir, path), 'utf8');
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

const RETAINED_VERSIONS = 8;

/**
 * How long a published version stays fetchable from the shared store. Every process publishes
 * its version again when it starts or sees a change, which renews it; a version nobody has
 * published for a week is no longer referenced by any live request.
 */
const BUNDLE_RETENTION_MS = 7 * 24 * 3600 * 1000;

export async function createPolicyRuntime(options: PolicyRuntimeOptions): Promise<PolicyRuntime> {
  const namespace = options.namespace ?? process.env.CREDENCE_REDIS_NAMESPACE ?? 'credence';
  const channel = `${namespace}:policy:changed`;
  const bundleKey = (version: string): string => `${namespace}:policy:bundle:${version}`;
  const retained = new Map<string, CompiledPolicy>();
  const listeners: ((policy: CompiledPolicy) => void)[] = [];

  const initial = await options.compile(await readPolicyBundle(options.dir));
  if (!initial.ok) throw new Error(`The policy in ${options.dir} is invalid:\n${initial.errors.join('\n')}`);
  let active = initial.policy;
  retain(active);

  function retain(policy: CompiledPolicy): void {
    retained.delete(policy.version);
    retained.set(policy.version, policy);
    while (retained.size > RETAINED_VERSIONS) retained.delete(retained.keys().next().value as string);
  }

  function activate(policy: CompiledPolicy): void {
    retain(policy);
    if (policy.version === active.version) return;
    active = policy;
    options.log.info({ version: policy.version }, 'policy version activated');
    for (const listener of listeners) listener(policy);
  }

  async function fetchVersion(version: string): Promise<CompiledPolicy | undefined> {
    const stored = await options.sharedStore.get(bundleKey(version));
    if (!stored) return undefined;
    const result = await options.compile(JSON.parse(stored) as PolicyBundle);
    if (!result.ok || result.policy.version !== version) return undefined;
    retain(result.policy);
    return result.policy;
  }

  async function publish(bundle: PolicyBundle, policy: CompiledPolicy): Promise<void> {
    await options.sharedStore.set(bundleKey(policy.version), JSON.stringify(bundle), BUNDLE_RETENTION_MS);
    await options.sharedStore.publish(channel, policy.version);
  }

  await options.sharedStore.subscribe(channel, (version) => {
    const known = retained.get(version);
    if (known) return activate(known);
    void fetchVersion(version).then(
      (policy) => (policy ? activate(policy) : options.log.error({ version }, 'announced policy version could not be loaded')),
      (error: unknown) => options.log.error({ err: error, version }, 'announced policy version could not be loaded'),
    );
  });
  // This process's files are the newest it knows: make them available and current everywhere.
  await publish(await readPolicyBundle(options.dir), active);

  let watcher: FSWatcher | undefined;
  if (options.watch) {
    let timer: NodeJS.Timeout | undefined;
    const reload = async (): Promise<void> => {
      const bundle = await readPolicyBundle(options.dir);
      const result = await options.compile(bundle);
      if (!result.ok) {
        options.log.error({ errors: result.errors }, 'policy change refused: the policy in force stays');
        return;
      }
      if (result.policy.version === active.version) return;
      activate(result.policy);
      await publish(bundle, result.policy);
    };
    watcher = watch(options.dir, { recursive: true }, () => {
      // Editors save in several steps; act once they are done.
      clearTimeout(timer);
      timer = setTimeout(() => void reload().catch((error: unknown) => options.log.error({ err: error }, 'policy reload failed')), 150);
    });
  }

  return {
    current: () => active,
    version: async (version) => retained.get(version) ?? fetchVersion(version),
    onChange: (listener) => void listeners.push(listener),
    close: () => watcher?.close(),
  };
}

/**
 * The policy as a long-running process (gateway or subgraph) holds it: the signed release in
 * force, compiled against the supergraph, replaced when a newer signed release arrives
 * (policy-in-force.ts).
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../../logger.ts';
import type { SharedStore } from '../../stores/shared-store.ts';
import { buildApiSchema } from '../decision/api-schema.ts';
import { loadPolicyFromTexts } from '../loading/load-policy.ts';
import { formatProblem } from '../loading/problems.ts';
import { releasesDirectory } from './signed-release.ts';
import { DEFAULT_POLICIES_DIR, DEFAULT_SUPERGRAPH_PATH, readSharedSettings } from '../../config/shared.ts';
import type { Environment } from '../../config/read.ts';
import { createPolicyRuntime, type PolicyCompiler, type PolicyRuntime } from './policy-in-force.ts';

export { DEFAULT_POLICIES_DIR, DEFAULT_SUPERGRAPH_PATH };

/** POLICIES_DIR, or the `policies/` folder shipped with Credence. */
export function policiesDirectory(env?: Environment): string {
  return readSharedSettings(env).policiesDir;
}

/** The shared store's namespace (CREDENCE_REDIS_NAMESPACE), so deployments sharing a Redis never mix. */
export function redisNamespace(env?: Environment): string {
  return readSharedSettings(env).redisNamespace;
}

/** Compiles policy bundles against one supergraph's API schema (built once). */
export function policyCompiler(supergraphSdl: string): PolicyCompiler {
  const schema = buildApiSchema(supergraphSdl);
  return (bundle) => {
    const result = loadPolicyFromTexts(bundle, schema);
    return result.ok ? { ok: true, policy: result.policy } : { ok: false, errors: result.errors.map(formatProblem) };
  };
}

export function startPolicyRuntime(options: {
  /** The policies folder; its `releases/` folder holds the signed releases unless POLICY_RELEASES_DIR names another. */
  dir: string;
  sharedStore: SharedStore;
  log: Logger;
  supergraphPath?: string;
  watch?: boolean;
  /** The trusted release keys (CREDENCE_RELEASE_PUBLIC_KEYS, read by the process's configuration). */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  namespace?: string;
  refreshMs?: number;
}): Promise<PolicyRuntime> {
  return createPolicyRuntime({
    compile: policyCompiler(readFileSync(options.supergraphPath ?? DEFAULT_SUPERGRAPH_PATH, 'utf8')),
    sharedStore: options.sharedStore,
    log: options.log,
    trustedKeys: options.trustedKeys,
    releasesDir: releasesDirectory(options.dir),
    watch: options.watch ?? true,
    namespace: options.namespace ?? redisNamespace(),
    ...(options.refreshMs ? { refreshMs: options.refreshMs } : {}),
  });
}

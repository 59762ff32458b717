/**
 * The policy as a long-running process (gateway or subgraph) holds it: read from the policies
 * folder, validated against the supergraph, hot-reloaded (runtime.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.ts';
import type { SharedStore } from '../stores/shared-store.ts';
import { buildApiSchema } from './api-schema.ts';
import { loadPolicyFromTexts } from './load.ts';
import { formatProblem } from './problems.ts';
import { createPolicyRuntime, type PolicyCompiler, type PolicyRuntime } from './runtime.ts';

export const DEFAULT_POLICIES_DIR = fileURLToPath(new URL('../../policies', import.meta.url));
export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));

/** POLICIES_DIR, or the `policies/` folder shipped with Credence. */
export function policiesDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env.POLICIES_DIR ?? DEFAULT_POLICIES_DIR;
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
  dir: string;
  sharedStore: SharedStore;
  log: Logger;
  supergraphPath?: string;
  watch?: boolean;
}): Promise<PolicyRuntime> {
  return createPolicyRuntime({
    dir: options.dir,
    compile: policyCompiler(readFileSync(options.supergraphPath ?? DEFAULT_SUPERGRAPH_PATH, 'utf8')),
    sharedStore: options.sharedStore,
    log: options.log,
    watch: options.watch ?? true,
  });
}

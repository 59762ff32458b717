/**
 * The release commands of `npm run policy`: making, checking and rolling back signed policy
 * releases, making a release key, and seeing which release every process enforces. Every
 * decision is lib/policy's (releaser.ts, release.ts, release-store.ts); this file reads the
 * command line and prints.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { generateEd25519KeyPair } from '../lib/identity/ed25519-keys.ts';
import { createLogger } from '../lib/logger.ts';
import { readPolicyBundle, type PolicyBundle } from '../lib/policy/loading/bundle.ts';
import { redisNamespace } from '../lib/policy/releases/process-policy.ts';
import { formatPolicyTestResults, readPolicyTestFiles } from '../lib/policy/officers/policy-tests.ts';
import {
  RELEASE_ENV,
  parseJson,
  releaseDigest,
  releaseFileName,
  releaseKeyFromPem,
  releasesDirectory,
  trustedReleaseKeys,
  verifyRelease,
  type PolicyRelease,
  type ReleaseKey,
} from '../lib/policy/releases/signed-release.ts';
import { readFleet } from '../lib/policy/releases/release-store.ts';
import { makeRelease } from '../lib/policy/officers/releaser.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { LOCAL_RELEASE_KEY_PATH, LOCAL_RELEASES_DIR } from './local-releaser.ts';
import { CommandError, UsageError, option, printProblems, type Context } from './policy.ts';
import type { Environment } from '../lib/config/read.ts';
import { readSharedSettings } from '../lib/config/shared.ts';

/** The signing key: CREDENCE_RELEASE_PRIVATE_KEY, else `npm start`'s local key (development). */
function signingKey(ctx: Context): ReleaseKey {
  const pem = ctx.io.env[RELEASE_ENV.PRIVATE_KEY];
  if (pem?.trim()) return releaseKeyFromPem(pem);
  if (existsSync(LOCAL_RELEASE_KEY_PATH)) {
    ctx.io.stderr(
      `note: ${RELEASE_ENV.PRIVATE_KEY} is not set: signing with npm start's local key (${LOCAL_RELEASE_KEY_PATH}), for development only`,
    );
    return releaseKeyFromPem(readFileSync(LOCAL_RELEASE_KEY_PATH, 'utf8'), LOCAL_RELEASE_KEY_PATH);
  }
  throw new CommandError(
    `${RELEASE_ENV.PRIVATE_KEY} is not set: it must hold the release key (PEM). \`npm run policy -- release-key\` makes one.`,
  );
}

/** The keys releases are checked with: CREDENCE_RELEASE_PUBLIC_KEYS, else the signing key's own. */
function verifyingKeys(ctx: Context, key?: ReleaseKey): Map<string, KeyObject> {
  if (ctx.io.env[RELEASE_ENV.PUBLIC_KEYS]?.trim()) return trustedReleaseKeys(ctx.io.env);
  if (key) return new Map([[key.keyId, createPublicKey(key.privateKey)]]);
  const local = existsSync(LOCAL_RELEASE_KEY_PATH)
    ? releaseKeyFromPem(readFileSync(LOCAL_RELEASE_KEY_PATH, 'utf8'), LOCAL_RELEASE_KEY_PATH)
    : undefined;
  if (local) return new Map([[local.keyId, createPublicKey(local.privateKey)]]);
  throw new CommandError(`${RELEASE_ENV.PUBLIC_KEYS} is not set: it must hold the release key's public key (PEM).`);
}

/**
 * POLICY_RELEASES_DIR, else `npm start`'s folder in .data/ when its local key signs (development),
 * else `releases/` in the policies folder.
 */
function releasesDirFor(ctx: Context): string {
  if (
    !ctx.io.env[RELEASE_ENV.DIR] &&
    !ctx.io.env[RELEASE_ENV.PRIVATE_KEY]?.trim() &&
    existsSync(LOCAL_RELEASE_KEY_PATH)
  )
    return LOCAL_RELEASES_DIR;
  return releasesDirectory(ctx.dir, ctx.io.env);
}

async function withSharedStore<T>(env: Environment, run: (store: SharedStore) => Promise<T>): Promise<T> {
  const store = await connectSharedStore(createLogger('policy'), { url: readSharedSettings(env).redisUrl });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

/** Release N from the release folder, verified: the content a rollback restores. */
async function releaseNumbered(
  ctx: Context,
  releasesDir: string,
  number: string,
  keys: ReadonlyMap<string, KeyObject>,
): Promise<PolicyRelease> {
  if (!/^\d+$/.test(number)) throw new UsageError(`--from-release takes a release number, not "${number}"`);
  const path = join(releasesDir, releaseFileName(Number(number)));
  if (!existsSync(path)) throw new CommandError(`no release ${number} in ${relative(ctx.io.cwd, releasesDir) || '.'}`);
  const check = verifyRelease(parseJson(await readFile(path, 'utf8')), keys);
  if (!check.ok) throw new CommandError(`${relative(ctx.io.cwd, path)} is refused: ${check.detail}`);
  return check.release;
}

/** Makes the policy files of a folder exactly `files` (a rollback's content), leaving tests and releases alone. */
async function writePolicyFiles(dir: string, files: PolicyBundle): Promise<void> {
  for (const path of Object.keys(await readPolicyBundle(dir))) if (!(path in files)) await rm(join(dir, path));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

async function releaseCommand(ctx: Context): Promise<number> {
  const key = signingKey(ctx);
  const trustedKeys = verifyingKeys(ctx, key);
  if (!trustedKeys.has(key.keyId))
    throw new CommandError(
      `the signing key "${key.keyId}" is not among ${RELEASE_ENV.PUBLIC_KEYS}: processes would refuse its release`,
    );
  const releasesDir = releasesDirFor(ctx);
  const from = option(ctx.values, 'from-release');
  const restored = from === undefined ? undefined : await releaseNumbered(ctx, releasesDir, from, trustedKeys);
  const note = option(ctx.values, 'note') ?? (restored ? `rollback to the content of release ${restored.number}` : '');
  const files = restored?.files ?? (await readPolicyBundle(ctx.dir));
  // A rollback restores content that passed its own tests when it was first released.
  const tests = restored ? new Map<string, string>() : await readPolicyTestFiles(ctx.dir);
  const outcome = await withSharedStore(ctx.io.env, (sharedStore) =>
    makeRelease({
      files,
      tests,
      schema: ctx.schema(),
      key,
      trustedKeys,
      releasesDir,
      sharedStore,
      namespace: redisNamespace(ctx.io.env),
      note,
    }),
  );
  switch (outcome.kind) {
    case 'invalid':
      printProblems(ctx.io, outcome.problems);
      ctx.io.stderr('\nnot released: the policy is not valid');
      return 1;
    case 'tests-failed':
      ctx.io.stderr(`${formatPolicyTestResults(outcome.results)}\nnot released: policy tests fail`);
      return 1;
    case 'unchanged':
      ctx.io.stdout(`nothing to release: the files are release ${outcome.number}, in force`);
      return 0;
    case 'released':
      if (restored) await writePolicyFiles(ctx.dir, restored.files);
      ctx.io.stdout(
        [
          `released policy ${outcome.release.number} (after ${outcome.previous})`,
          `  version   ${outcome.version}`,
          `  sha256    ${outcome.release.sha256}`,
          `  key       ${outcome.release.keyId}`,
          `  file      ${relative(ctx.io.cwd, outcome.path)}`,
          ...(note ? [`  note      ${note}`] : []),
          'Every process activates it on the announcement, or at its next refresh (2 s); `npm run policy -- status` shows it.',
        ].join('\n'),
      );
      return 0;
  }
}

async function verifyReleaseCommand(ctx: Context): Promise<number> {
  const releasesDir = releasesDirFor(ctx);
  let path = ctx.positionals[0] ? resolve(ctx.io.cwd, ctx.positionals[0]) : undefined;
  if (!path) {
    const newest = (await readdir(releasesDir).catch(() => []))
      .filter((name) => /^release-\d+\.json$/.test(name))
      .sort()
      .pop();
    if (!newest) throw new CommandError(`no release in ${relative(ctx.io.cwd, releasesDir) || '.'}`);
    path = join(releasesDir, newest);
  }
  const check = verifyRelease(parseJson(await readFile(path, 'utf8')), verifyingKeys(ctx));
  if (!check.ok) {
    ctx.io.stderr(`${relative(ctx.io.cwd, path)}: REFUSED (${check.reason}): ${check.detail}`);
    return 1;
  }
  const { release } = check;
  const matches = releaseDigest(await readPolicyBundle(ctx.dir)) === release.sha256;
  ctx.io.stdout(
    [
      `${relative(ctx.io.cwd, path)}: release ${release.number}, signature verified`,
      `  sha256    ${release.sha256}`,
      `  signed    ${release.signedAt} with key ${release.keyId}`,
      ...(release.note ? [`  note      ${release.note}`] : []),
      `  ${relative(ctx.io.cwd, ctx.dir) || '.'} ${matches ? 'holds exactly these files' : 'differs from it (unreleased changes, or another release)'}`,
    ].join('\n'),
  );
  return 0;
}

async function releaseKeyCommand(ctx: Context): Promise<number> {
  const out = resolve(ctx.io.cwd, option(ctx.values, 'out') ?? '.');
  const pair = generateEd25519KeyPair();
  const privatePath = join(out, 'release-key.pem');
  if (existsSync(privatePath)) throw new CommandError(`${privatePath} exists: a release key is never overwritten`);
  await mkdir(out, { recursive: true });
  await writeFile(privatePath, pair.privateKeyPem, { mode: 0o600 });
  await writeFile(join(out, 'release-key.pub.pem'), pair.publicKeyPem);
  ctx.io.stdout(
    [
      `release key ${pair.keyId}`,
      `  private   ${relative(ctx.io.cwd, privatePath)}  (keep it offline, with the officers who sign; ${RELEASE_ENV.PRIVATE_KEY} when signing)`,
      `  public    ${relative(ctx.io.cwd, join(out, 'release-key.pub.pem'))}  (${RELEASE_ENV.PUBLIC_KEYS} of every gateway and department)`,
    ].join('\n'),
  );
  return 0;
}

async function statusCommand(ctx: Context): Promise<number> {
  const fleet = await withSharedStore(ctx.io.env, (store) => readFleet(store, redisNamespace(ctx.io.env)));
  if (ctx.json) {
    ctx.io.stdout(JSON.stringify(fleet, null, 2));
  } else if (fleet.processes.length === 0) {
    ctx.io.stdout('no process has reported a release to the shared store');
  } else {
    ctx.io.stdout(`newest release in force: ${fleet.newest}`);
    for (const entry of fleet.processes) {
      ctx.io.stdout(
        `${entry.stale ? 'STALE' : 'ok   '} ${entry.role.padEnd(10)} ${entry.instance.padEnd(32)} release ${entry.release.number} ` +
          `(${entry.release.version}) since ${entry.release.since}, reported ${entry.reportedAt}${entry.stale ? ` [${entry.stale}]` : ''}`,
      );
    }
  }
  return fleet.processes.some((entry) => entry.stale) ? 1 : 0;
}

export const RELEASE_COMMANDS: Record<string, (ctx: Context) => Promise<number>> = {
  release: releaseCommand,
  'verify-release': verifyReleaseCommand,
  'release-key': releaseKeyCommand,
  status: statusCommand,
};

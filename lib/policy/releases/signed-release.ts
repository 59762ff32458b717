/**
 * Signed policy releases: the only form in which a policy goes into force.
 *
 * The files in `policies/` are what officers edit; a release is those files signed with the
 * release key (Ed25519), under a number that only grows. Every gateway and department process
 * trusts the release key's public key(s) from its configuration and activates a release only
 * when its signature verifies, its files hash to what was signed, and its number is higher than
 * the one in force. Redis and the files on a machine are then only storage and transport: a
 * bundle written there by someone without the release key, or an older release, is refused.
 *
 * The envelope is self-contained JSON (the files travel with it), so it can be stored in Redis,
 * in a release folder, or handed over by any other means, and verified anywhere.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ed25519KeyId, parseEd25519PublicKeys, toEd25519PrivateKey } from '../../identity/ed25519-keys.ts';
import type { Environment } from '../../config/read.ts';
import { readSharedSettings } from '../../config/shared.ts';
import type { PolicyBundle } from '../loading/bundle.ts';

export const RELEASE_FORMAT = 'credence-policy-release/1';

/** A signed policy release, as stored and transported. */
export interface PolicyRelease {
  format: typeof RELEASE_FORMAT;
  /** Grows by one with each release; a process never activates a number at or below the one in force. */
  number: number;
  /** SHA-256 (hex) of the files, as `releaseDigest` computes it. */
  sha256: string;
  /** When the release was signed (ISO 8601). */
  signedAt: string;
  /** The release key that signed it. */
  keyId: string;
  /** Free text recorded with the release: why it was made (a rollback names what it restores). */
  note: string;
  files: PolicyBundle;
  /** Ed25519 signature (base64url) over `signingInput`. */
  signature: string;
}

/**
 * What a process reports as in force (on `/status`, which anyone reaching the process can read):
 * identifying facts only. The officers' note stays in the release file and `verify-release`.
 */
export type ReleaseSummary = Pick<PolicyRelease, 'number' | 'sha256' | 'signedAt' | 'keyId'>;

export function summarize(release: PolicyRelease): ReleaseSummary {
  const { number, sha256, signedAt, keyId } = release;
  return { number, sha256, signedAt, keyId };
}

/** Why a release was refused: each a security event when it came from storage. */
export type ReleaseRefusal = 'MALFORMED' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'DIGEST_MISMATCH';

export type ReleaseCheck = { ok: true; release: PolicyRelease } | { ok: false; reason: ReleaseRefusal; detail: string };

/** SHA-256 of the files: names in order, each length-prefixed so no text can move between files unnoticed. */
export function releaseDigest(files: PolicyBundle): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort()) {
    const text = files[name] ?? '';
    hash
      .update(`${Buffer.byteLength(name)}:${name}\n${Buffer.byteLength(text)}:`)
      .update(text)
      .update('\n');
  }
  return hash.digest('hex');
}

/** The bytes signed: every field but the files (covered by their digest) and the signature. */
function signingInput(release: Omit<PolicyRelease, 'files' | 'signature'>): Buffer {
  return Buffer.from(
    JSON.stringify([release.format, release.number, release.sha256, release.signedAt, release.keyId, release.note]),
  );
}

export interface ReleaseKey {
  privateKey: KeyObject;
  keyId: string;
}

export function releaseKeyFromPem(pem: string, what: string = RELEASE_ENV.PRIVATE_KEY): ReleaseKey {
  const privateKey = toEd25519PrivateKey(pem, what);
  return { privateKey, keyId: ed25519KeyId(privateKey) };
}

export function signRelease(options: {
  files: PolicyBundle;
  number: number;
  key: ReleaseKey;
  note?: string;
  now?: Date;
}): PolicyRelease {
  if (!Number.isSafeInteger(options.number) || options.number < 1)
    throw new Error(`A release number is a whole number from 1, not ${options.number}`);
  const unsigned = {
    format: RELEASE_FORMAT,
    number: options.number,
    sha256: releaseDigest(options.files),
    signedAt: (options.now ?? new Date()).toISOString(),
    keyId: options.key.keyId,
    note: options.note ?? '',
  } as const;
  const signature = sign(null, signingInput(unsigned), options.key.privateKey).toString('base64url');
  return { ...unsigned, files: options.files, signature };
}

function isFiles(value: unknown): value is PolicyBundle {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((text) => typeof text === 'string')
  );
}

/** Checks a release from anywhere (parsed JSON of unknown shape) against the trusted release keys. */
export function verifyRelease(value: unknown, trustedKeys: ReadonlyMap<string, KeyObject>): ReleaseCheck {
  const candidate = value as Partial<PolicyRelease> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    candidate.format !== RELEASE_FORMAT ||
    !Number.isSafeInteger(candidate.number) ||
    (candidate.number ?? 0) < 1 ||
    typeof candidate.sha256 !== 'string' ||
    typeof candidate.signedAt !== 'string' ||
    typeof candidate.keyId !== 'string' ||
    typeof candidate.note !== 'string' ||
    typeof candidate.signature !== 'string' ||
    !isFiles(candidate.files)
  ) {
    return { ok: false, reason: 'MALFORMED', detail: `not a ${RELEASE_FORMAT} envelope` };
  }
  const release = candidate as PolicyRelease;
  const key = trustedKeys.get(release.keyId);
  if (!key)
    return {
      ok: false,
      reason: 'UNKNOWN_KEY',
      detail: `signed by key "${release.keyId}", which is not a trusted release key`,
    };
  if (!verify(null, signingInput(release), key, Buffer.from(release.signature, 'base64url'))) {
    return {
      ok: false,
      reason: 'BAD_SIGNATURE',
      detail: `the signature does not verify with release key "${release.keyId}"`,
    };
  }
  if (releaseDigest(release.files) !== release.sha256) {
    return { ok: false, reason: 'DIGEST_MISMATCH', detail: 'the files are not the ones that were signed' };
  }
  return { ok: true, release };
}

export const RELEASE_ENV = {
  /** Every process: the release key's public key(s). */
  PUBLIC_KEYS: 'CREDENCE_RELEASE_PUBLIC_KEYS',
  /** Only where releases are signed (`npm run policy -- release`, `npm start`'s local releaser). */
  PRIVATE_KEY: 'CREDENCE_RELEASE_PRIVATE_KEY',
  /** Where release files are kept (default: `releases/` in the policies folder). */
  DIR: 'POLICY_RELEASES_DIR',
} as const;

/** The trusted release keys of a process, failing at start-up with the variable's name when wrong. */
export function trustedReleaseKeys(env: Environment): Map<string, KeyObject> {
  const raw = env[RELEASE_ENV.PUBLIC_KEYS];
  if (!raw?.trim()) {
    throw new Error(
      `${RELEASE_ENV.PUBLIC_KEYS} is not set: it must hold the policy release key's public key (PEM), or a JSON object of key id → PEM. ` +
        '`npm run policy -- release-key` makes a key pair (policies/README.md).',
    );
  }
  return parseEd25519PublicKeys(raw, RELEASE_ENV.PUBLIC_KEYS);
}

/** The release folder of a policies folder, unless POLICY_RELEASES_DIR names another. */
export function releasesDirectory(policiesDir: string, env?: Environment): string {
  return readSharedSettings(env).releasesDir ?? join(policiesDir, 'releases');
}

/** A release file's name: the number, zero-padded so that names sort as numbers do. */
export function releaseFileName(number: number): string {
  return `release-${String(number).padStart(6, '0')}.json`;
}

/**
 * Writes a release file atomically (a temporary file renamed into place), so that a process
 * watching the folder never reads half a release.
 */
export async function writeReleaseFile(dir: string, release: PolicyRelease): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, releaseFileName(release.number));
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(release, null, 2)}\n`);
  await rename(temporary, path);
  return path;
}

/**
 * The highest-numbered release of a folder whose signature verifies; the files refused on the
 * way (higher numbers that do not verify) are reported, as each is a security event. A missing
 * folder holds no release.
 */
export async function highestReleaseIn(
  dir: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  onRefused: (path: string, refusal: Extract<ReleaseCheck, { ok: false }>) => void,
): Promise<PolicyRelease | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => /^release-\d+\.json$/.test(name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  for (const name of names.sort().reverse()) {
    const path = join(dir, name);
    const check = verifyRelease(parseJson(await readFile(path, 'utf8')), trustedKeys);
    if (check.ok) return check.release;
    onRefused(path, check);
  }
  return undefined;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

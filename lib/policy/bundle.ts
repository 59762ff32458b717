/**
 * A policy bundle: the files of a policies folder that make the policy, by path. What a release
 * signs and carries; policy tests, releases and documentation live beside the policy but are not
 * part of it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** The policy files, by path relative to the policies folder (with `/` separators). */
export type PolicyBundle = Readonly<Record<string, string>>;

/** Folders of a policies folder that are not policy: its tests and its signed releases. */
const NOT_POLICY = ['tests/', 'releases/'];

function isPolicyFile(path: string): boolean {
  return !NOT_POLICY.some((folder) => path.startsWith(folder)) && (path.endsWith('.yaml') || path.endsWith('.yml') || path.endsWith('.json'));
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

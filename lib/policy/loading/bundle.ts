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

export function isPolicyFile(path: string): boolean {
  return (
    !NOT_POLICY.some((folder) => path.startsWith(folder)) &&
    (path.endsWith('.yaml') || path.endsWith('.yml') || path.endsWith('.json'))
  );
}

/** The files below a folder, by path; hidden folders and files (`.git`, editors' swap files) are not policy. */
async function filesUnder(root: string, dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) paths.push(...(await filesUnder(root, path)));
    else if (entry.isFile()) paths.push(relative(root, path).split(sep).join('/'));
  }
  return paths;
}

export async function readPolicyBundle(dir: string): Promise<PolicyBundle> {
  const files: Record<string, string> = {};
  for (const path of (await filesUnder(dir, dir)).filter(isPolicyFile).sort((a, b) => a.localeCompare(b))) {
    files[path] = await readFile(join(dir, path), 'utf8');
  }
  return files;
}

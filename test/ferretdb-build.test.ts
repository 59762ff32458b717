/**
 * The first `npm start` builds FerretDB from its Go sources, which takes minutes: the build says
 * what it is doing. A real build into a cache of the test's own (Go's module and build caches
 * make it shorter than the first one on a machine), with the progress interval shortened so that
 * the "still compiling" reports appear within it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { FERRETDB_VERSION, ensureFerretdbBinary, hasGo } from '../lib/stores/ferretdb.ts';

const execFileAsync = promisify(execFile);

describe('the FerretDB build', { timeout: 600_000 }, () => {
  const cache = mkdtempSync(join(tmpdir(), 'credence-ferretdb-cache-'));
  const previous = process.env.CREDENCE_CACHE_DIR;
  after(() => {
    process.env.CREDENCE_CACHE_DIR = previous;
    if (previous === undefined) delete process.env.CREDENCE_CACHE_DIR;
    rmSync(cache, { recursive: true, force: true });
  });

  it('shows progress: each step as it starts and ends, and how far compilation is while it runs', async (context) => {
    if (!(await hasGo())) return context.skip('Go is not installed: the embedded store is mongodb-memory-server');
    process.env.CREDENCE_CACHE_DIR = cache;
    const lines: { msg: string; compiled?: string }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          lines.push(JSON.parse(chunk.toString()) as { msg: string });
          done();
        },
      }),
    );

    const binary = await ensureFerretdbBinary(log, { progressIntervalMs: 100 });

    const messages = lines.map(({ msg }) => msg);
    assert.match(messages[0] ?? '', /building the embedded FerretDB once \(3 steps, about 4 minutes the first time\)/);
    for (const step of [
      'step 1 of 3, downloading the FerretDB sources',
      'step 2 of 3, downloading its dependencies',
      'step 3 of 3, compiling',
    ]) {
      assert.ok(messages.includes(`FerretDB build: ${step}`), `starts ${step}`);
      assert.ok(messages.includes(`FerretDB build: done ${step}`), `ends ${step}`);
    }
    const compiling = lines.filter(({ msg }) => msg === 'FerretDB build: still step 3 of 3, compiling');
    assert.ok(compiling.length > 0, 'reports while compiling');
    assert.match(compiling[0]?.compiled ?? '', /^\d+ of at most \d{3,} packages$/);
    const { stdout } = await execFileAsync(binary, ['--version']);
    assert.match(stdout, new RegExp(FERRETDB_VERSION.replace(/\./g, '\\.')));
  });
});

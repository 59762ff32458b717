/**
 * `npm start` as a newcomer uses it, on ports, a data folder, databases and a Redis namespace of
 * its own: it prints the URL; a department that stops is reported and restarted with back-off
 * while the gateway answers without it (partial answers, then the full answer again); the
 * command-line tools find the embedded store it runs without MONGODB_URI; and the endpoints
 * docs/operations.md documents answer as it says.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { METRICS_PORT_OFFSET } from '../lib/observability/metrics.ts';
import { freePort } from '../lib/stores/net.ts';
import { readDemoKeys } from '../scripts/demo-keys.ts';
import { firstQuery, showcaseSubject, type RunningStore } from '../scripts/stack.ts';
import { RESTART_BACKOFF, restartDelay } from '../scripts/supervisor.ts';
import { dropDepartmentDatabases } from './support/databases.ts';
import { post, send, type HttpAnswer } from './support/http.ts';
import { isRunning } from '../lib/processes.ts';
import { createLogger } from '../lib/logger.ts';
import { startMongo } from '../lib/stores/mongo.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);
const CALLER = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };

/** Polls `check` until it returns a value (the test's own timeout bounds the wait). */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A port that nothing listens on now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive free ports whose operator listeners (METRICS_PORT_OFFSET above)
 * are free too, all of them below the kernel's ephemeral range (32768), where no outgoing
 * connection of a concurrent test can take one between the pick and the start.
 */
async function freeRange(count: number): Promise<number> {
  const highest = 32_768 - METRICS_PORT_OFFSET - count;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (highest - 20_000));
    const wanted = Array.from({ length: count }, (_, offset) => base + offset);
    const free = await Promise.all([...wanted, ...wanted.map((port) => port + METRICS_PORT_OFFSET)].map(isFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

describe('npm start', { timeout: 240_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'credence-start-'));
  const prefix = `credence_start_${process.pid}_`;
  let stack: ChildProcess;
  let output = '';
  let graphqlUrl = '';
  let gatewayUrl = '';
  let env: NodeJS.ProcessEnv;
  const pidOf = (name: string): number => Number(readFileSync(join(dataDir, 'pids', `${name}.pid`), 'utf8'));
  const apiKey = readDemoKeys(join(ROOT, 'policies')).get(CALLER.consumer) ?? '';
  const ask = (): Promise<HttpAnswer> =>
    post(graphqlUrl, { 'x-api-key': apiKey, 'x-credence-purpose': CALLER.purpose }, firstQuery(showcaseSubject()));

  before(async () => {
    // The departments' six ports and the gateway's come from below the kernel's ephemeral range, where port 0
    // (freePort) never lands, so no other port picked here or by a concurrent test can fall among them or their
    // operator listeners.
    const departmentBase = await freeRange(7);
    const gatewayPort = departmentBase + 6;
    const [storePort, consolePort] = [await freePort(), await freePort()];
    env = {
      ...process.env,
      CREDENCE_DATA_DIR: dataDir,
      GATEWAY_PORT: String(gatewayPort),
      // Six ports from a free one: a port taken in between shows as a start-up failure, not a wrong answer.
      DEPARTMENT_BASE_PORT: String(departmentBase),
      EMBEDDED_MONGO_PORT: String(storePort),
      CONSOLE_PORT: String(consolePort),
      MONGODB_DB_PREFIX: prefix,
      CREDENCE_REDIS_NAMESPACE: `credence-start-${process.pid}`,
      SEED_SUBJECTS: '40',
      LOG_LEVEL: 'info',
    };
    delete env.MONGODB_URI;
    delete env.ACCESS_LOG_MONGODB_URI;
    stack = spawn(process.execPath, ['scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    stack.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    graphqlUrl = await eventually('the printed URL', () => {
      if (stack.exitCode !== null) throw new Error(`npm start exited with ${stack.exitCode}:\n${output.slice(-3000)}`);
      return /Credence is running: (\S+)/.exec(output)?.[1];
    });
    gatewayUrl = new URL('/', graphqlUrl).toString().replace(/\/$/, '');
  });

  /** Drops this stack's databases through the store at `uri` (the embedded store keeps them in the machine's shared PostgreSQL). */
  const dropDatabasesAt = async (uri: string): Promise<void> => {
    const previous = process.env.MONGODB_DB_PREFIX;
    process.env.MONGODB_DB_PREFIX = prefix;
    try {
      await dropDepartmentDatabases(uri);
    } finally {
      process.env.MONGODB_DB_PREFIX = previous;
    }
  };
  /** ...through the store the stack runs, while it runs. */
  const dropDatabases = async (): Promise<void> => {
    const file = join(dataDir, 'store.json');
    if (!existsSync(file)) return;
    await dropDatabasesAt((JSON.parse(readFileSync(file, 'utf8')) as RunningStore).uri);
  };

  after(async () => {
    if (stack.exitCode === null) {
      await dropDatabases().catch(() => {});
      stack.kill('SIGINT');
      await new Promise((resolve) => stack.once('exit', resolve));
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the URL and answers the printed first query in full', async () => {
    assert.match(output, /curl -s http:\/\/127\.0\.0\.1:\d+\/graphql/);
    const answer = await ask();
    assert.equal(answer.status, 200);
    assert.equal(answer.body.errors, undefined);
    assert.ok(Array.isArray((answer.body.data?.subject as Record<string, unknown> | null)?.taxViolations));
  });

  it('a department that stops is reported and restarted: partial answers, then the full answer again', async () => {
    const stopped = pidOf('tax');
    process.kill(stopped, 'SIGTERM'); // what `kill $(cat .data/pids/tax.pid)` sends
    await eventually('the department to stop', () => (isRunning(stopped) ? undefined : true));

    const partial = await eventually('a partial answer', async () => {
      const answer = await ask();
      return answer.body.errors?.some((error) => error.extensions?.code === 'DEPARTMENT_UNAVAILABLE')
        ? answer
        : undefined;
    });
    assert.equal(partial.status, 200);
    const subject = partial.body.data?.subject as Record<string, unknown>;
    assert.equal(subject.taxViolations, null, "the stopped department's field is null");
    assert.ok(
      typeof subject.name === 'string' && Array.isArray(subject.administrativePenalties),
      'the other departments still answer',
    );
    assert.deepEqual(
      partial.body.errors?.map((error) => [error.extensions?.code, error.extensions?.department]),
      [['DEPARTMENT_UNAVAILABLE', 'tax']],
    );

    const full = await eventually('the full answer again', async () => {
      const answer = await ask();
      return answer.body.errors === undefined ? answer : undefined;
    });
    assert.ok(Array.isArray((full.body.data?.subject as Record<string, unknown>).taxViolations));
    assert.notEqual(pidOf('tax'), stopped, 'a new process');
    assert.ok(isRunning(pidOf('tax')));
    assert.match(output, /tax stopped \(code [^)]*\); restarting in 1 s/);
    assert.match(output, /"tax restarted"/);
    assert.equal(stack.exitCode, null, 'the rest of the stack kept running');
  });

  it('restarts back off: 1 s, doubling to 30 s while a process keeps stopping, 1 s again after a minute up', () => {
    const delays: number[] = [];
    let last: number | undefined;
    for (let restart = 0; restart < 8; restart++) delays.push((last = restartDelay(last, 2000)));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    assert.equal(restartDelay(30_000, RESTART_BACKOFF.stableMs), 1000);
  });

  it('npm run audit finds the embedded store npm start runs, without MONGODB_URI', async () => {
    const cli = { cwd: ROOT, env: { ...env } };
    const { stdout, stderr } = await execFileAsync(process.execPath, ['scripts/audit.ts', 'verify'], cli);
    assert.match(stderr, /store: embedded .* run by npm start \(pid \d+, .*store\.json\)/);
    assert.match(stdout, /access log: 1 chain\(s\), [1-9]\d* record\(s\)/);
    assert.match(stdout, /verified: no record edited, deleted, inserted or reordered/);
  });

  it('npm run seed finds it too, and adds nothing to a seeded store', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['scripts/seed.ts', '--subjects', '40'], {
      cwd: ROOT,
      env: { ...env },
    });
    assert.match(stdout, /store: embedded .* run by npm start/);
    assert.match(stdout, /seeded 40 subjects/);
    assert.doesNotMatch(stdout, /: [1-9]/, 'no new documents');
  });

  it('without npm start running, the tools say how to name a store', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'credence-nostore-'));
    try {
      const answer = await execFileAsync(process.execPath, ['scripts/audit.ts', 'verify'], {
        cwd: ROOT,
        env: { ...env, CREDENCE_DATA_DIR: elsewhere },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(answer.code, 2);
      assert.match(answer.stderr, /audit: No store: set MONGODB_URI .* run `npm start`/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('the endpoints answer as docs/operations.md documents them', async () => {
    const healthz = await send(`${gatewayUrl}/healthz`, { method: 'GET' });
    assert.equal(healthz.status, 200);
    assert.deepEqual(healthz.body, { status: 'ok' });
    const readyz = await send(`${gatewayUrl}/readyz`, { method: 'GET' });
    assert.equal(readyz.status, 200);
    const checks = (readyz.body as unknown as { checks: Record<string, string> }).checks;
    assert.deepEqual(
      Object.keys(checks).sort(),
      [
        'accessLog',
        'sharedStore',
        ...['audit', 'credit', 'judicial', 'penalties', 'registry', 'tax'].map((name) => `subgraph:${name}`),
      ].sort(),
    );
    const status = await send(`${gatewayUrl}/status`, { method: 'GET' });
    assert.equal((status.body as unknown as { service: string }).service, 'gateway');
    const elsewhere = await send(`${gatewayUrl}/`, { method: 'GET' });
    assert.equal(elsewhere.status, 404);
    assert.equal(elsewhere.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');

    // A department down makes the gateway not ready, naming it; it is ready again once the department is.
    const stopped = pidOf('registry');
    process.kill(stopped, 'SIGKILL');
    const notReady = await eventually('readyz to name the stopped department', async () => {
      const answer = await send(`${gatewayUrl}/readyz`, { method: 'GET' });
      return answer.status === 503 ? answer : undefined;
    });
    assert.equal(
      (notReady.body as unknown as { checks: Record<string, string> }).checks['subgraph:registry'],
      'unavailable',
    );
    await eventually('ready again', async () =>
      (await send(`${gatewayUrl}/readyz`, { method: 'GET' })).status === 200 ? true : undefined,
    );
    assert.match(output, /registry stopped \(code none, signal SIGKILL\); restarting in 1 s/);
  });

  /**
   * Runs a second npm start with the gateway on `gatewayPort` while `takenPort` is held by another
   * listener: it must exit 1 before starting a store, saying why on stderr.
   */
  async function startWhileTaken(gatewayPort: number, takenPort: number, folder: string): Promise<string> {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(takenPort, '127.0.0.1', resolve));
    try {
      const answer = await execFileAsync(process.execPath, ['scripts/start.ts'], {
        cwd: ROOT,
        env: { ...env, GATEWAY_PORT: String(gatewayPort), CREDENCE_DATA_DIR: join(dataDir, folder) },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(answer.code, 1);
      assert.equal(existsSync(join(dataDir, folder, 'store.json')), false, 'no store started');
      return answer.stderr;
    } finally {
      taken.close();
    }
  }

  it('a port already taken stops it before anything starts, naming the port and the setting', async () => {
    const port = await freePort();
    assert.match(
      await startWhileTaken(port, port, 'second'),
      new RegExp(
        `port ${port} for the gateway \\(GATEWAY_PORT\\) is in use: is another npm start running\\? Stop it, or set GATEWAY_PORT to another port`,
      ),
    );
  });

  it("an operator listener's port already taken stops it before anything starts, naming the port and the setting", async () => {
    const gatewayPort = await freeRange(1);
    const operatorPort = gatewayPort + METRICS_PORT_OFFSET;
    assert.match(
      await startWhileTaken(gatewayPort, operatorPort, 'third'),
      new RegExp(`port ${operatorPort} for the gateway's operator listener \\(GATEWAY_PORT\\) is in use`),
    );
  });

  it('Ctrl-C stops every process it started and removes its store and process files; the gateway closes its access log first', async () => {
    const pids = ['registry', 'judicial', 'tax', 'penalties', 'credit', 'audit', 'gateway'].map(pidOf);
    const journal = join(dataDir, 'access-journal');
    assert.notDeepEqual(readdirSync(journal), [], 'the running gateway keeps its access-log journal here');
    const exited = new Promise((resolve) => stack.once('exit', resolve));
    stack.kill('SIGINT');
    await exited;
    assert.deepEqual(pids.filter(isRunning), []);
    assert.equal(existsSync(join(dataDir, 'store.json')), false);
    assert.equal(existsSync(join(dataDir, 'pids')), false);
    // Closed, not killed: everything journaled was sent to the store, and the journal and its lock removed.
    assert.deepEqual(readdirSync(journal), []);
    // The stack's databases, through a store of the test's own on the same PostgreSQL (the stack's is stopped).
    const cleaner = await startMongo({ dataDir: join(dataDir, 'cleaner'), log: createLogger('test') });
    try {
      await dropDatabasesAt(cleaner.uri);
    } finally {
      await cleaner.stop();
    }
  });
});

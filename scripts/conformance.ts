/**
 * `npm run conformance -- <audit-dir>`: runs The Guild's federation gateway audit
 * (graphql-hive/federation-gateway-audit, a local copy with its dependencies installed) against
 * the bare @apollo/gateway and against Credence's gateway stages (test/conformance/gateway.ts),
 * and prints the pass counts suite by suite, side by side, with every case that differs. Local
 * only: CI runs Credence's own conformance tests (test/conformance.test.ts), never this.
 * docs/conformance.md says how to prepare the audit copy.
 *
 *   npm run conformance -- <audit-dir> [--suite <id>] [--mode bare|credence] [--json <file>]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childEnvironment, readToolSettings } from './config.ts';

const GATEWAY = fileURLToPath(new URL('../test/conformance/gateway.ts', import.meta.url));
const GATEWAY_PORT = 4000;
type Mode = 'bare' | 'credence';

/** Suite id -> one character per case: `.` passed, `X` failed (the audit's results.txt). */
export type SuiteResults = Map<string, string>;

export function parseResults(text: string): SuiteResults {
  const results = new Map<string, string>();
  const lines = text.split('\n');
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const id = lines[index]?.trim() ?? '';
    if (id === '' || id === '---') break;
    results.set(id, (lines[index + 1] ?? '').trim());
  }
  return results;
}

function runScript(auditDir: string, workDir: string, mode: Mode): string {
  const path = join(workDir, 'run.sh');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'set -e',
      `cd "${auditDir}"`,
      `./node_modules/.bin/tsx ./src/cli.ts supergraph --cwd "${workDir}" --test "$1"`,
      `exec node "${GATEWAY}" --mode ${mode} --supergraph "${workDir}/supergraph.graphql" --port ${GATEWAY_PORT}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return path;
}

async function runAudit(
  auditDir: string,
  mode: Mode,
  suite: string | undefined,
  gatewayTimeoutMs: number,
): Promise<{ results: SuiteResults; workDir: string }> {
  const workDir = mkdtempSync(join(tmpdir(), `credence-conformance-${mode}-`));
  const script = runScript(auditDir, workDir, mode);
  const endpoints = [
    '--graphql',
    `http://127.0.0.1:${GATEWAY_PORT}/graphql`,
    '--healthcheck',
    `http://127.0.0.1:${GATEWAY_PORT}/health`,
  ];
  const args = suite
    ? [
        'tsx',
        './src/cli.ts',
        'test-suite',
        '--test',
        suite,
        '--cwd',
        workDir,
        '--run-script',
        script,
        '--reporter',
        'dot',
        ...endpoints,
      ]
    : [
        'tsx',
        './src/cli.ts',
        'test',
        '--cwd',
        workDir,
        '--run-script',
        script,
        '--reporter',
        'dot',
        '--write',
        'results.txt',
        ...endpoints,
      ];
  let output = '';
  const code = await new Promise<number | null>((done) => {
    // The audit waits 5 s for a gateway by default; a loaded machine needs longer.
    const child = spawn(join(auditDir, 'node_modules/.bin/tsx'), args.slice(1), {
      cwd: auditDir,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: childEnvironment({ GATEWAY_TIMEOUT: String(gatewayTimeoutMs) }),
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.once('exit', done);
  });
  if (suite) {
    // test-suite prints the suite id, then its dots; results.txt is written by `test` only.
    const dots = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[.X]+$/.test(line))
      .join('');
    return { results: new Map([[suite, dots]]), workDir };
  }
  const file = join(workDir, 'results.txt');
  if (!existsSync(file)) throw new Error(`the audit wrote no results (exit ${code ?? 'signal'}); see ${workDir}/logs`);
  return { results: parseResults(readFileSync(file, 'utf8')), workDir };
}

const passed = (cases: string | undefined): number => [...(cases ?? '')].filter((mark) => mark === '.').length;

export function formatComparison(bare: SuiteResults, credence: SuiteResults): string {
  const suites = [...new Set([...bare.keys(), ...credence.keys()])];
  const width = Math.max(5, ...suites.map((suite) => suite.length));
  const lines = [`${'suite'.padEnd(width)}  cases  bare  credence  differing cases`];
  let total = 0;
  for (const suite of suites) {
    const a = bare.get(suite) ?? '';
    const b = credence.get(suite) ?? '';
    const cases = Math.max(a.length, b.length);
    total += cases;
    const differing = Array.from({ length: cases }, (_, index) => index)
      .filter((index) => a[index] !== b[index])
      .map(
        (index) =>
          `#${index + 1} bare ${a[index] === '.' ? 'pass' : 'FAIL'}, credence ${b[index] === '.' ? 'pass' : 'FAIL'}`,
      );
    lines.push(
      `${suite.padEnd(width)}  ${String(cases).padStart(5)}  ${String(passed(a)).padStart(4)}  ${String(passed(b)).padStart(8)}  ${differing.join('; ')}`,
    );
  }
  const sum = (results: SuiteResults) => [...results.values()].reduce((count, cases) => count + passed(cases), 0);
  lines.push(
    '',
    `${'total'.padEnd(width)}  ${String(total).padStart(5)}  ${String(sum(bare)).padStart(4)}  ${String(sum(credence)).padStart(8)}`,
  );
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { suite: { type: 'string' }, mode: { type: 'string' }, json: { type: 'string' } },
  });
  const [dir] = positionals;
  if (!dir) {
    console.error('usage: npm run conformance -- <audit-dir> [--suite <id>] [--mode bare|credence] [--json <file>]');
    process.exit(2);
  }
  const settings = readToolSettings();
  const auditDir = resolve(settings.invocationDir ?? process.cwd(), dir);
  if (!existsSync(join(auditDir, 'src/cli.ts')) || !existsSync(join(auditDir, 'node_modules'))) {
    console.error(
      `${auditDir} is not a prepared copy of graphql-hive/federation-gateway-audit (src/cli.ts and node_modules): see docs/conformance.md`,
    );
    process.exit(1);
  }
  const modes: Mode[] = values.mode === 'bare' || values.mode === 'credence' ? [values.mode] : ['bare', 'credence'];
  const runs = new Map<Mode, SuiteResults>();
  for (const mode of modes) {
    const { results, workDir } = await runAudit(auditDir, mode, values.suite, settings.conformanceGatewayTimeoutMs);
    console.error(`\n${mode}: logs in ${workDir}/logs`);
    runs.set(mode, results);
  }
  const bare = runs.get('bare') ?? new Map<string, string>();
  const credence = runs.get('credence') ?? new Map<string, string>();
  console.log(formatComparison(bare, credence));
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify({ bare: Object.fromEntries(bare), credence: Object.fromEntries(credence) }, null, 2),
    );
}

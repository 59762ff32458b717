/**
 * What `npm start` shares with the other commands: where it keeps its embedded store and local
 * state (`.data/`, or CREDENCE_DATA_DIR), the file through which the command-line tools find the
 * store it runs, its processes' id files, and the first query it suggests.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { dataDirectory } from './config.ts';
import { isRunning } from '../lib/processes.ts';

export const DATA_DIRECTORY = dataDirectory() ?? fileURLToPath(new URL('../.data', import.meta.url));

/** Where a running `npm start` says which store it runs, for the command-line tools. */
export const STORE_FILE = join(DATA_DIRECTORY, 'store.json');

/** Where `npm start` keeps the process id of each process it runs (`<name>.pid`). */
export const PID_DIRECTORY = join(DATA_DIRECTORY, 'pids');

export interface RunningStore {
  uri: string;
  /** What runs, in words. */
  description: string;
  /** The `npm start` process that runs it. */
  pid: number;
}

/** Records the store this `npm start` runs; readable by its user only, as a URI may carry a password. */
export function writeRunningStore(store: Omit<RunningStore, 'pid'>, file = STORE_FILE): void {
  mkdirSync(DATA_DIRECTORY, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...store, pid: process.pid } satisfies RunningStore)}\n`, { mode: 0o600 });
}

/** Removes the record if it is this process's. */
export function removeRunningStore(file = STORE_FILE): void {
  if (readRunningStoreFile(file)?.pid === process.pid) rmSync(file, { force: true });
}

function readRunningStoreFile(file: string): RunningStore | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunningStore>;
    if (typeof parsed.uri !== 'string' || typeof parsed.description !== 'string' || !Number.isInteger(parsed.pid))
      return undefined;
    return parsed as RunningStore;
  } catch {
    return undefined;
  }
}

/** The store of an `npm start` still running, or undefined (no file, a damaged one, or its process gone). */
export function runningStore(file = STORE_FILE): RunningStore | undefined {
  const store = readRunningStoreFile(file);
  return store && isRunning(store.pid) ? store : undefined;
}

/** Records the process id of one of `npm start`'s processes, so that it can be stopped by name. */
export function writePidFile(name: string, pid: number): void {
  mkdirSync(PID_DIRECTORY, { recursive: true });
  writeFileSync(join(PID_DIRECTORY, `${name}.pid`), `${pid}\n`);
}

export function removePidFiles(): void {
  rmSync(PID_DIRECTORY, { recursive: true, force: true });
}

/** Who the first query is sent as: a consumer of the shipped policy that may see all of it. */
export const SHOWCASE_CALLER = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' } as const;

/** The first seeded subjects likely to have records in every department (the serious cases). */
export function showcaseCandidates(count: number, seeded = Infinity): string[] {
  const codes: string[] = [];
  for (let index = 0; codes.length < count && index < seeded; index++) {
    const subject = seedSubject(index);
    if (subject.risk === 'serious') codes.push(subject.uscc);
  }
  return codes;
}

export function showcaseSubject(): string {
  return showcaseCandidates(1)[0] ?? seedSubject(0).uscc;
}

/** One subject with its records from all five departments, as the showcase caller may see them. */
export function firstQuery(uscc: string): string {
  return (
    `{ subject(uscc: "${uscc}") { name status legalRepresentative { name } ` +
    'dishonestDebtorEntries { caseNumber court performanceStatus } ' +
    'taxViolations { caseNumber violationType decidedOn } ' +
    'administrativePenalties { decisionNumber category severity decidedOn } ' +
    'seriousDishonestyListings { listType listedOn basis { number issuedBy } } } }'
  );
}

/** The department lists of `firstQuery`, one per department beyond the registry. */
export const FIRST_QUERY_LISTS = [
  'dishonestDebtorEntries',
  'taxViolations',
  'administrativePenalties',
  'seriousDishonestyListings',
] as const;

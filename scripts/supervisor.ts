/**
 * Keeps one of `npm start`'s processes running. A department (or the gateway) that stops without
 * being asked to is reported and started again after a back-off (1 s, doubling up to 30 s while
 * it keeps stopping soon after starting), so one department down is a state the rest of the
 * federation can be seen answering through, not the end of the whole stack.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../lib/logger.ts';
import { stopChild } from '../lib/stores/ferretdb.ts';

export interface Backoff {
  /** Wait before the first restart, and again after a process that ran `stableMs`. */
  initialMs: number;
  maxMs: number;
  /** A process that ran this long is healthy again: its next restart waits `initialMs`. */
  stableMs: number;
}

export const RESTART_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, stableMs: 60_000 };

/** How long to wait before the next start, given the last wait (none yet: undefined) and how long the process ran. */
export function restartDelay(
  lastDelayMs: number | undefined,
  ranMs: number,
  backoff: Backoff = RESTART_BACKOFF,
): number {
  if (lastDelayMs === undefined || ranMs >= backoff.stableMs) return backoff.initialMs;
  return Math.min(lastDelayMs * 2, backoff.maxMs);
}

export interface Supervised {
  readonly name: string;
  /** Stops the process and starts it no more. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  name: string;
  /** Starts the process (again). */
  start: () => ChildProcess;
  log: Logger;
  /** Called with each process started, e.g. to record its id. */
  onStart?: (child: ChildProcess) => void;
  backoff?: Backoff;
}

export function supervise(options: SuperviseOptions): Supervised {
  const { name, log, backoff = RESTART_BACKOFF } = options;
  let current: ChildProcess | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastDelayMs: number | undefined;

  const launch = (): void => {
    timer = undefined;
    if (stopped) return;
    const startedAt = Date.now();
    const child = options.start();
    current = child;
    options.onStart?.(child);
    child.once('exit', (code, signal) => {
      if (stopped) return;
      lastDelayMs = restartDelay(lastDelayMs, Date.now() - startedAt, backoff);
      log.warn(
        { process: name, code, signal, restartInMs: lastDelayMs },
        `${name} stopped (code ${code ?? 'none'}, signal ${signal ?? 'none'}); restarting in ${lastDelayMs / 1000} s`,
      );
      timer = setTimeout(() => {
        if (stopped) return;
        launch();
        log.info({ process: name, pid: current?.pid }, `${name} restarted`);
      }, lastDelayMs);
    });
  };
  launch();

  return {
    name,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (current) await stopChild(current);
    },
  };
}

/**
 * A guard against a defect of the MongoDB driver (seen in 7.8; 7.9 has the same code): when the
 * store closes the monitor's connection while a server check is being written to it, the check
 * waits for an event from a socket that is already gone (a write on a destroyed socket waits for
 * 'drain'). That check never ends, the driver never checks the store again, and every operation
 * fails server selection for good, even once the store is back.
 *
 * The driver bounds every check by connectTimeoutMS (plus heartbeatFrequencyMS for an awaited,
 * streaming check), so a check still running well past that bound is stuck. The guard notices it
 * from the driver's own heartbeat events and replaces the client; nothing else gets out of it.
 */
import type { Connection, ConnectOptions } from 'mongoose';
import type { Logger } from '../logger.ts';

export interface CheckTimings {
  connectTimeoutMS: number;
  heartbeatFrequencyMS: number;
}

/** A server check that has started and not yet ended. */
export interface RunningCheck {
  startedAt: number;
  awaited: boolean;
}

/** Slack on top of the driver's own bound, for a busy event loop. */
const SLACK_MS = 2000;

/** True when `check` has run past every bound the driver puts on it. */
export function isStuck(check: RunningCheck | undefined, timings: CheckTimings, now: number): boolean {
  if (!check) return false;
  const bound = timings.connectTimeoutMS + (check.awaited ? timings.heartbeatFrequencyMS : 0) + SLACK_MS;
  return now - check.startedAt > bound;
}

interface HeartbeatStarted {
  connectionId: string;
  awaited: boolean;
}
interface HeartbeatEnded {
  connectionId: string;
}

/**
 * Watches `connection`'s server checks and, when one is stuck, closes the client and opens a new
 * one with the same URI and options (models and collections carry over). Stops when the
 * connection's owner closes it: the owner's `close()` waits for a replacement under way, which
 * then does not reopen, so a connection its owner closed is never opened again behind its back.
 */
export function guardAgainstStuckChecks(
  connection: Connection,
  target: {
    uri: string;
    options: ConnectOptions;
    /** The bounds the driver puts on a check: `options`' own unless given (a test gives shorter ones). */
    timings?: CheckTimings;
    log: Logger;
    pollMs?: number;
  },
): void {
  // The driver's defaults where `options` sets none.
  const timings = target.timings ?? {
    connectTimeoutMS: target.options.connectTimeoutMS ?? 30_000,
    heartbeatFrequencyMS: target.options.heartbeatFrequencyMS ?? 10_000,
  };
  const running = new Map<string, RunningCheck>();
  let replacement: Promise<void> | undefined;
  let replacementFailed = false;
  let closedByOwner = false;
  const close = connection.close.bind(connection);

  const watch = (): void => {
    const client = connection.getClient();
    client.on('serverHeartbeatStarted', (event: HeartbeatStarted) =>
      running.set(event.connectionId, { startedAt: Date.now(), awaited: event.awaited }),
    );
    const ended = (event: HeartbeatEnded) => running.delete(event.connectionId);
    client.on('serverHeartbeatSucceeded', ended);
    client.on('serverHeartbeatFailed', ended);
  };

  const replaceClient = async (): Promise<void> => {
    try {
      await close();
      running.clear();
      if (closedByOwner) return;
      await connection.openUri(target.uri, target.options);
      watch();
      replacementFailed = false;
      target.log.info('store client replaced; the store answers again');
    } catch (error) {
      // The store is down again: the next poll tries again.
      replacementFailed = true;
      target.log.warn({ reason: (error as Error).message }, 'store client could not be replaced yet');
    } finally {
      replacement = undefined;
    }
  };

  const poll = setInterval(() => {
    if (replacement || closedByOwner) return;
    const now = Date.now();
    if (replacementFailed || [...running.values()].some((check) => isStuck(check, timings, now))) {
      if (!replacementFailed) target.log.warn('the store client stopped checking the store; replacing it');
      replacement = replaceClient();
    }
  }, target.pollMs ?? 1000);
  poll.unref();

  connection.close = async (force?: boolean): Promise<void> => {
    closedByOwner = true;
    clearInterval(poll);
    await replacement;
    await close(force);
  };
  watch();
}

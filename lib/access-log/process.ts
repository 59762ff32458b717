/** Opening and closing a gateway's access log from its configuration (gateway/main.ts, tests). */
import type { Logger } from '../logger.ts';
import { ACCESS_LOG_KEY_ENV, loadCheckpointSigner } from './keys.ts';
import { connectAccessLogStore } from './store.ts';
import { defaultInstanceName, openAccessLogWriter, type AccessLogWriter } from './writer.ts';

export interface AccessLogConfig {
  /** ACCESS_LOG=off turns it off (benchmarks, development); on by default. */
  enabled: boolean;
  /** ACCESS_LOG_MONGODB_URI, else MONGODB_URI. */
  mongoUri: string | undefined;
  /** CREDENCE_GATEWAY_INSTANCE, else `gateway@<host>:<port>`. */
  instance: string | undefined;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  writeTimeoutMs: number;
  /** ACCESS_LOG_JOURNAL_DIR: records are durable once in this folder's journal, and shipped to the store in batches (writer.ts); unset, each is written to the store before its answer. */
  journalDir: string | undefined;
  /** ACCESS_LOG_SHIP_INTERVAL_MS: how often journaled records go to the store. */
  shipIntervalMs: number;
  /** ACCESS_LOG_MAX_LAG_MS: with a journal, requests are refused once the store has not taken a record for this long. */
  maxLagMs: number;
  /** CREDENCE_ACCESS_LOG_PRIVATE_KEY: the key signing this instance's checkpoints; unset, one is generated for the process. */
  checkpointKeyPem?: string | undefined;
}

export interface OpenedAccessLog {
  writer: AccessLogWriter;
  /** Final checkpoint, then the store connection. */
  close(): Promise<void>;
}

export async function startAccessLog(
  config: AccessLogConfig,
  options: { log: Logger; port: number },
): Promise<OpenedAccessLog | undefined> {
  if (!config.enabled) {
    options.log.warn(
      'ACCESS_LOG=off: requests are answered without an access log (for benchmarks and development only)',
    );
    return undefined;
  }
  if (!config.mongoUri)
    throw new Error(
      'The access log needs a store: set MONGODB_URI or ACCESS_LOG_MONGODB_URI (or ACCESS_LOG=off outside production).',
    );
  const store = await connectAccessLogStore(config.mongoUri, {
    serverSelectionTimeoutMs: Math.min(config.writeTimeoutMs, 2000),
  });
  const writer = await openAccessLogWriter({
    store,
    signer: loadCheckpointSigner({ [ACCESS_LOG_KEY_ENV]: config.checkpointKeyPem }),
    instance: config.instance ?? defaultInstanceName(options.port),
    log: options.log,
    checkpointEvery: config.checkpointEvery,
    checkpointIntervalMs: config.checkpointIntervalMs,
    writeTimeoutMs: config.writeTimeoutMs,
    journalDir: config.journalDir,
    shipIntervalMs: config.shipIntervalMs,
    maxLagMs: config.maxLagMs,
  }).catch(async (error: unknown) => {
    await store.close();
    throw new Error(`The access log cannot be opened: ${(error as Error).message}`, { cause: error });
  });
  return {
    writer,
    close: async () => {
      await writer.close();
      await store.close();
    },
  };
}

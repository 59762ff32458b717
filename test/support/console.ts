/**
 * The privacy console beside a test federation: a real console server on port 0, signing with
 * the federation's release key, reading the access log through its gateway; and a real
 * Chromium (Debian's, driven by playwright-core) at 1280×800 whose screenshots are kept under
 * test-results/screenshots/ (CI keeps that folder).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startConsole, type ConsoleServer } from '../../console/server.ts';
import { createLogger } from '../../lib/logger.ts';
import { buildApiSchema } from '../../lib/policy/decision/api-schema.ts';
import { DEFAULT_SUPERGRAPH_PATH } from '../../lib/policy/releases/process-policy.ts';
import { releasesDirectory } from '../../lib/policy/releases/signed-release.ts';
import { connectSharedStore, type SharedStore } from '../../lib/stores/shared-store.ts';
import type { Federation } from './federation.ts';

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ConsoleBeside {
  server: ConsoleServer;
  sharedStore: SharedStore;
  close(): Promise<void>;
}

export async function startConsoleBeside(
  federation: Federation,
  options: { sessionIdleMs?: number } = {},
): Promise<ConsoleBeside> {
  const log = createLogger('test-console');
  const sharedStore = await connectSharedStore(log);
  const server = await startConsole({
    port: 0,
    gatewayUrl: federation.gateway.graphqlUrl,
    policiesDir: federation.policiesDir,
    releasesDir: releasesDirectory(federation.policiesDir, {}),
    sharedStore,
    namespace: process.env.CREDENCE_REDIS_NAMESPACE ?? 'credence',
    releaseKey: federation.releaseKeys.key,
    trustedKeys: federation.releaseKeys.trusted,
    schema: buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8')),
    accessLogUri: federation.mongo.uri,
    ...(options.sessionIdleMs ? { sessionIdleMs: options.sessionIdleMs } : {}),
    log,
  });
  return {
    server,
    sharedStore,
    close: async () => {
      await server.close();
      await sharedStore.close();
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Root in CI containers: Chromium's sandbox needs user namespaces it may not have there.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

export async function newOfficerPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return { context, page: await context.newPage() };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

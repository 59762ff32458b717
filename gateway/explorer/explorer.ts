/**
 * The explorer: GraphiQL at /explorer, for frontend developers. The developer enters an API key
 * and a purpose; GraphiQL then introspects and queries as that consumer, so its docs show the
 * consumer's own schema (the gateway answers introspection per consumer, stages/policy-decision.ts) and
 * every query goes through the same authentication, limits, policy and access log as any other.
 *
 * Every asset is served from node_modules by this gateway (nothing from a CDN), under a content
 * security policy that allows scripts from this origin only. The key lives in the page's memory:
 * GraphiQL is given a storage that keeps nothing, so no key, header or query is left in the
 * browser. A browser's GET of /graphql (an HTML page asked for, no credentials) is sent here
 * instead of the CSRF refusal. `GATEWAY_EXPLORER=off` removes all of it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const EXPLORER_PATH = '/explorer';

const require = createRequire(import.meta.url);
/** A file of an installed package, found from its main module (react's exports hide its UMD builds). */
const packageFile = (name: string, file: string): string => join(dirname(require.resolve(name)), file);

/** The files the page loads: a fixed list, so no request names a path of its own. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'react.js': { file: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: packageFile('graphiql', '../graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: packageFile('graphiql', '../graphiql.min.css'), type: 'text/css' },
  'explorer.js': { file: fileURLToPath(new URL('./client.js', import.meta.url)), type: 'text/javascript' },
  'explorer.css': { file: fileURLToPath(new URL('./explorer.css', import.meta.url)), type: 'text/css' },
};

/**
 * The page's own policy, replacing the JSON answers' `default-src 'none'`: scripts and styles
 * from this origin (GraphiQL sets inline style attributes), fonts and icons inlined as data:
 * URLs, requests to this origin only, never framed.
 */
const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Credence explorer</title>
<link rel="stylesheet" href="${EXPLORER_PATH}/assets/graphiql.css">
<link rel="stylesheet" href="${EXPLORER_PATH}/assets/explorer.css">
</head>
<body>
<form id="credentials" autocomplete="off">
  <strong>Credence explorer</strong>
  <label>API key <input id="api-key" name="api-key" type="password" required spellcheck="false" placeholder="cred_…"></label>
  <label>Purpose <input id="purpose" name="purpose" spellcheck="false" placeholder="your default purpose"></label>
  <button id="connect" type="submit">Explore as this consumer</button>
  <span id="status" role="status">The schema and docs shown are those of the consumer the key belongs to. The key stays in this page only.</span>
</form>
<div id="graphiql"></div>
<script src="${EXPLORER_PATH}/assets/react.js"></script>
<script src="${EXPLORER_PATH}/assets/react-dom.js"></script>
<script src="${EXPLORER_PATH}/assets/graphiql.js"></script>
<script src="${EXPLORER_PATH}/assets/explorer.js"></script>
</body>
</html>
`;

/** A browser navigating to /graphql: it asks for HTML and sends no credentials (programs do the opposite). */
export function isBrowserVisit(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  const accept = String(request.headers.accept ?? '');
  return accept.includes('text/html') && !request.headers['x-api-key'] && !request.headers.authorization;
}

export function mountExplorer(app: FastifyInstance): void {
  const files = new Map(
    Object.entries(ASSETS).map(([name, { file, type }]) => [name, { body: readFileSync(file), type }]),
  );
  const isExplorer = (url: string): boolean => url === EXPLORER_PATH || url.startsWith(`${EXPLORER_PATH}/`);

  // Registered after the shared security headers, so the page's own policy replaces theirs.
  app.addHook('onSend', async (request, reply) => {
    if (isExplorer(request.url.split('?')[0] ?? '')) void reply.header('content-security-policy', EXPLORER_CSP);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] === '/graphql' && isBrowserVisit(request)) return reply.redirect(EXPLORER_PATH, 303);
    return undefined;
  });
  app.get(EXPLORER_PATH, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get<{ Params: { name: string } }>(`${EXPLORER_PATH}/assets/:name`, async (request, reply) => {
    const asset = files.get(request.params.name);
    if (!asset) return reply.callNotFound();
    return reply.type(asset.type).send(asset.body);
  });
}

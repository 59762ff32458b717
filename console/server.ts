/**
 * The privacy office's console: its own HTTP process, serving server-rendered pages and two
 * local assets. Everything it decides or shows comes from lib/policy (the release in force, the
 * matrix's decisions, validation, diff, policy tests, releases), lib/access-log (verification)
 * and the gateway's GraphQL API (the access log, read as the officer); the console adds the
 * officers' sessions and the four-eyes proposals.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../lib/logger.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import { createAuthenticator } from '../lib/identity/authenticate.ts';
import { loadCatalog } from '../lib/policy/reference/catalog.ts';
import { diffPolicies } from '../lib/policy/officers/diff.ts';
import { parsePolicyTestFiles, runPolicyTests } from '../lib/policy/officers/policy-tests.ts';
import type { ReleaseKey } from '../lib/policy/releases/signed-release.ts';
import { createGatewayClient, type AccessLogSearch } from './gateway-client.ts';
import { isLanguage, translator, type Language } from './i18n.ts';
import { buildMatrix, type MatrixFilter } from './matrix.ts';
import { createProposalBook, type Proposal } from './proposals.ts';
import { createReleaseDesk, type ReleaseInForce } from './releases.ts';
import { createSessions, parseCookies, type OfficerCredential, type Session } from './sessions.ts';
import { createStatusDesk, type VerificationSettings } from './status.ts';
import { loginPage } from './pages/login.ts';
import { matrixPage } from './pages/matrix.ts';
import { checkFragment, editorPage, proposalPage, proposalsPage, type CheckResult } from './pages/proposals.ts';
import { statusPage } from './pages/status.ts';
import { logPage, reportCsv, reportPage } from './pages/log.ts';
import type { PageContext } from './pages/layout.ts';
import { toText } from './html.ts';

export interface ConsoleOptions {
  port: number;
  /** How access-log verification is run from the console (the audit key, the retention rule). */
  verification?: VerificationSettings;
  host?: string;
  /** The gateway's GraphQL URL: the access log is read through it, as the officer. */
  gatewayUrl: string;
  /** The policies folder: its tests/ run against proposals. */
  policiesDir: string;
  releasesDir: string;
  sharedStore: SharedStore;
  namespace: string;
  /** Signs approved proposals; its public key must be among every process's trusted keys. */
  releaseKey: ReleaseKey;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  schema: GraphQLSchema;
  /** The access log's store, for verification from the console. */
  accessLogUri?: string;
  sessionIdleMs?: number;
  sessionMaxAgeMs?: number;
  secureCookies?: boolean;
  /** Hosts whose processes' readiness the console asks (loopback by default). */
  processHosts?: readonly string[];
  log: Logger;
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

const LANG_COOKIE = 'credence_console_lang';
const ASSETS: Record<string, { type: string; body: string }> = {
  'console.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(new URL('./assets/console.css', import.meta.url), 'utf8'),
  },
  'console.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(new URL('./assets/console.js', import.meta.url), 'utf8'),
  },
};
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on form posts, and the origin check needs the real one.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
const PUBLIC_PATHS = new Set(['/login', '/lang', '/healthz']);

type Body = Record<string, unknown>;
declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A JWT is three base64url parts; anything else is taken for an API key. */
function credentialOf(raw: string): OfficerCredential {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(raw) ? { kind: 'jwt', token: raw } : { kind: 'api-key', apiKey: raw };
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const sessions = createSessions({
    idleMs: options.sessionIdleMs ?? 15 * 60_000,
    maxAgeMs: options.sessionMaxAgeMs ?? 8 * 3600_000,
    secure: options.secureCookies ?? false,
  });
  const releases = createReleaseDesk(options);
  const proposals = createProposalBook({ sharedStore: options.sharedStore, namespace: options.namespace, releases });
  const gateway = createGatewayClient(options.gatewayUrl);
  const status = createStatusDesk({
    sharedStore: options.sharedStore,
    namespace: options.namespace,
    ...(options.accessLogUri ? { accessLogUri: options.accessLogUri } : {}),
    processHosts: options.processHosts ?? ['127.0.0.1', 'localhost', '[::1]'],
    ...(options.verification ? { verification: options.verification } : {}),
  });
  const catalog = loadCatalog();

  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, forceCloseConnections: true });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addHook('onSend', async (_request, reply) => void reply.headers(SECURITY_HEADERS));
  app.setErrorHandler((error, _request, reply) => {
    options.log.error({ err: error }, 'console request failed');
    return reply.code(500).type('text/plain; charset=utf-8').send('Internal error of the console.');
  });

  const language = (request: FastifyRequest): Language => {
    const chosen = parseCookies(request.headers.cookie).get(LANG_COOKIE);
    return isLanguage(chosen) ? chosen : 'en';
  };
  const context = async (request: FastifyRequest): Promise<PageContext> => {
    const lang = language(request);
    const session = request.session;
    const inForce = await releases.inForce().then(
      (found) => found.release.number,
      () => undefined,
    );
    return {
      t: translator(lang),
      lang,
      path: request.url,
      ...(session ? { officer: { id: session.officer, name: session.officerName, csrf: session.csrf } } : {}),
      ...(inForce !== undefined ? { inForce } : {}),
    };
  };
  const sendPage = (reply: FastifyReply, body: string, code = 200): FastifyReply =>
    reply.code(code).type('text/html; charset=utf-8').send(body);
  const refuse = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
  ): Promise<FastifyReply> => {
    reply.header('x-console-refusal', code);
    const ctx = await context(request);
    if (!request.session) return sendPage(reply, loginPage(ctx, code), status);
    return sendPage(reply, proposalsPage(ctx, await proposals.list(), await releases.list(), 1, code), status);
  };

  /** Resolves a credential to an officer of the release in force, or the refusal's code. */
  async function officerFor(
    credential: OfficerCredential,
    inForce: ReleaseInForce,
  ): Promise<{ id: string; name: string } | 'INVALID_CREDENTIALS' | 'NOT_AN_OFFICER'> {
    const authenticator = createAuthenticator({ policy: inForce.loaded.policy, policiesDir: options.policiesDir });
    try {
      const identity = await authenticator.authenticate(
        credential.kind === 'api-key'
          ? { 'x-api-key': credential.apiKey }
          : { authorization: `Bearer ${credential.token}` },
      );
      if (identity.credential === 'anonymous') return 'INVALID_CREDENTIALS';
      return identity.consumer.roles?.includes('officer')
        ? { id: identity.consumer.id, name: identity.consumer.name }
        : 'NOT_AN_OFFICER';
    } catch {
      return 'INVALID_CREDENTIALS';
    }
  }

  /** Requests from another site are refused before anything else: a browser names the origin. */
  const crossSite = (request: FastifyRequest): boolean => {
    const from = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const own = `${options.secureCookies ? 'https' : 'http'}://${request.headers.host ?? ''}`;
    return (from !== undefined && from !== own) || (site !== undefined && site !== 'same-origin' && site !== 'none');
  };

  app.addHook('preHandler', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/assets/')) return;
    if (request.method === 'POST' && crossSite(request)) return refuse(request, reply, 403, 'CSRF_REJECTED');
    if (PUBLIC_PATHS.has(path)) return;
    const found = sessions.find(request.headers.cookie);
    if (!found.ok) {
      reply.header('set-cookie', sessions.clearCookie());
      if (request.method === 'GET')
        return reply.header('x-console-refusal', found.code).redirect(`/login?refused=${found.code}`, 303);
      return refuse(request, reply, 401, found.code);
    }
    request.session = found.session;
    // An officer whose role a release took away is signed out at the next request.
    const inForce = await releases.inForce();
    const consumer = inForce.loaded.policy.consumers.get(found.session.officer);
    if (!consumer?.roles?.includes('officer')) {
      sessions.end(found.session.id);
      delete request.session;
      return refuse(request, reply, 403, 'NOT_AN_OFFICER');
    }
    if (request.method === 'POST') {
      const token = (request.body as Body | undefined)?.csrf ?? request.headers['x-csrf-token'];
      if (!sessions.csrfMatches(found.session, token)) return refuse(request, reply, 403, 'CSRF_REJECTED');
    }
  });

  app.get('/assets/:name', async (request, reply) => {
    const asset = ASSETS[(request.params as { name: string }).name];
    if (!asset) return reply.code(404).send();
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/lang', async (request, reply) => {
    const { to, back } = request.query as { to?: string; back?: string };
    const lang = isLanguage(to) ? to : 'en';
    const target = typeof back === 'string' && back.startsWith('/') && !back.startsWith('//') ? back : '/';
    return reply
      .header('set-cookie', `${LANG_COOKIE}=${lang}; Path=/; SameSite=Strict; Max-Age=31536000`)
      .redirect(target, 303);
  });

  app.get('/login', async (request, reply) => {
    const refused = text((request.query as Body).refused);
    return sendPage(reply, loginPage(await context(request), /^[A-Z_]+$/.test(refused) ? refused : undefined));
  });
  app.post('/login', async (request, reply) => {
    const raw = text((request.body as Body | undefined)?.credential).trim();
    const credential = credentialOf(raw);
    const officer = raw ? await officerFor(credential, await releases.inForce()) : 'INVALID_CREDENTIALS';
    if (typeof officer === 'string') {
      options.log.warn({ code: officer }, 'console sign-in refused');
      return refuse(request, reply, officer === 'NOT_AN_OFFICER' ? 403 : 401, officer);
    }
    const session = sessions.start(officer, credential);
    options.log.info({ officer: officer.id }, 'officer signed in to the console');
    return reply.header('set-cookie', sessions.cookie(session)).redirect('/matrix', 303);
  });
  app.post('/logout', async (request, reply) => {
    if (request.session) sessions.end(request.session.id);
    return reply.header('set-cookie', sessions.clearCookie()).redirect('/login', 303);
  });
  app.get('/', async (_request, reply) => reply.redirect('/matrix', 303));

  app.get('/matrix', async (request, reply) => {
    const query = request.query as Record<string, string>;
    const filter: MatrixFilter = {};
    for (const name of ['consumer', 'field', 'department', 'item', 'dataClass'] as const)
      if (query[name]) filter[name] = query[name];
    const params = new URLSearchParams(Object.entries(filter) as [string, string][]);
    const { loaded } = await releases.inForce();
    const matrix = buildMatrix(loaded, options.schema, catalog, filter, Number(query.page) || 1);
    return sendPage(reply, matrixPage(await context(request), matrix, filter, params));
  });

  /** Validation, access diff against the release in force and policy tests of a set of files. */
  async function check(files: Record<string, string>): Promise<CheckResult> {
    const inForce = await releases.inForce();
    const loaded = releases.load(files);
    if (!loaded.ok) return { problems: loaded.errors };
    const { cases, problems } = parsePolicyTestFiles(await releases.tests());
    return {
      problems: [...loaded.warnings, ...problems],
      diff: diffPolicies(inForce.loaded.policy, loaded.policy, options.schema),
      tests: runPolicyTests(loaded.policy, options.schema, cases),
    };
  }
  const editedFiles = async (file: string, textValue: string): Promise<Record<string, string> | undefined> => {
    const { release } = await releases.inForce();
    return file in release.files && file.endsWith('.yaml') ? { ...release.files, [file]: textValue } : undefined;
  };

  app.get('/proposals', async (request, reply) => {
    const pageNumber = Number((request.query as Body).page) || 1;
    return sendPage(
      reply,
      proposalsPage(await context(request), await proposals.list(), await releases.list(), pageNumber),
    );
  });
  app.get('/proposals/new', async (request, reply) => {
    const { release } = await releases.inForce();
    const names = Object.keys(release.files)
      .filter((name) => name.endsWith('.yaml'))
      .sort();
    const requested = text((request.query as Body).file);
    const file = names.includes(requested) ? requested : names.includes('rules.yaml') ? 'rules.yaml' : (names[0] ?? '');
    const files = { ...release.files };
    return sendPage(
      reply,
      editorPage(await context(request), {
        files: names,
        file,
        text: files[file] ?? '',
        why: '',
        check: await check(files),
      }),
    );
  });
  app.post('/proposals/check', async (request, reply) => {
    const body = request.body as Body;
    const files = await editedFiles(text(body.file), text(body.text));
    if (!files) return reply.code(400).header('x-console-refusal', 'BAD_INPUT').send('unknown file');
    return reply
      .type('text/html; charset=utf-8')
      .send(toText(checkFragment(translator(language(request)), await check(files))));
  });
  app.post('/proposals', async (request, reply) => {
    const body = request.body as Body;
    const file = text(body.file);
    const files = await editedFiles(file, text(body.text));
    if (!files) return refuse(request, reply, 400, 'BAD_INPUT');
    const result = await proposals.propose({
      author: request.session!.officer,
      why: text(body.why),
      files,
      kind: 'change',
    });
    if (result.ok) return reply.redirect(`/proposals/${result.value.id}`, 303);
    reply.header('x-console-refusal', result.code);
    const { release } = await releases.inForce();
    const names = Object.keys(release.files)
      .filter((name) => name.endsWith('.yaml'))
      .sort();
    return sendPage(
      reply,
      editorPage(await context(request), {
        files: names,
        file,
        text: text(body.text),
        why: text(body.why),
        check: await check(files),
        refused: result.code,
      }),
      result.status,
    );
  });
  app.post('/proposals/rollback', async (request, reply) => {
    const body = request.body as Body;
    const target = await releases.numbered(Number(body.release));
    if (!target) return refuse(request, reply, 400, 'BAD_INPUT');
    const result = await proposals.propose({
      author: request.session!.officer,
      why: text(body.why),
      files: target.files,
      kind: 'rollback',
      rollbackTo: target.number,
    });
    if (!result.ok) return refuse(request, reply, result.status, result.code);
    return reply.redirect(`/proposals/${result.value.id}`, 303);
  });
  const showProposal = async (
    request: FastifyRequest,
    reply: FastifyReply,
    proposal: Proposal,
    refused?: { status: number; code: string },
  ): Promise<FastifyReply> => {
    if (refused) reply.header('x-console-refusal', refused.code);
    const inForce = await releases.inForce();
    // Once decided, the diff is shown against the release the proposal was based on.
    const base =
      proposal.status === 'open'
        ? inForce.release.files
        : ((await releases.numbered(proposal.base.number))?.files ?? inForce.release.files);
    const before = releases.load(base);
    const after = releases.load(proposal.files);
    const checked: CheckResult =
      after.ok && before.ok
        ? {
            problems: after.warnings,
            diff: diffPolicies(before.policy, after.policy, options.schema),
            tests:
              proposal.kind === 'rollback'
                ? []
                : runPolicyTests(after.policy, options.schema, parsePolicyTestFiles(await releases.tests()).cases),
          }
        : { problems: after.ok ? [] : after.errors };
    return sendPage(
      reply,
      proposalPage(await context(request), proposal, checked, refused?.code),
      refused?.status ?? 200,
    );
  };
  app.get('/proposals/:id', async (request, reply) => {
    const proposal = await proposals.get((request.params as { id: string }).id);
    if (!proposal) return refuse(request, reply, 404, 'NOT_FOUND');
    return showProposal(request, reply, proposal);
  });
  app.post('/proposals/:id/:decision', async (request, reply) => {
    const { id, decision } = request.params as { id: string; decision: string };
    const body = request.body as Body;
    const officer = request.session!.officer;
    const result =
      decision === 'approve'
        ? await proposals.approve({ id, officer, reason: text(body.reason), digest: text(body.digest) })
        : decision === 'reject'
          ? await proposals.reject({ id, officer, reason: text(body.reason) })
          : undefined;
    if (!result) return refuse(request, reply, 404, 'NOT_FOUND');
    if (result.ok) {
      options.log.info(
        { proposal: id, decision, officer, release: result.value.release },
        'proposal decided in the console',
      );
      return reply.redirect(`/proposals/${id}`, 303);
    }
    options.log.warn({ proposal: id, decision, officer, code: result.code }, 'proposal step refused');
    const proposal = await proposals.get(id);
    return proposal
      ? showProposal(request, reply, proposal, result)
      : refuse(request, reply, result.status, result.code);
  });

  app.get('/status', async (request, reply) => {
    const fleet = await status.processes();
    return sendPage(
      reply,
      statusPage(await context(request), {
        ...fleet,
        verification: await status.lastVerification(),
        accessLogStore: status.accessLogStore(),
      }),
    );
  });
  app.post('/status/verify', async (request, reply) => {
    await status.verify(request.session!.officer);
    return reply.redirect('/status', 303);
  });

  app.get('/log', async (request, reply) => {
    const query = request.query as Record<string, string>;
    const filter: AccessLogSearch = {};
    for (const name of ['requestId', 'consumer', 'purpose', 'subject', 'field', 'outcome', 'from', 'to'] as const)
      if (query[name]) filter[name] = query[name].trim();
    const searched = Object.keys(filter).length > 0 || query.all === '1' || Boolean(query.after);
    const params = new URLSearchParams(Object.entries(filter) as [string, string][]);
    if (query.after) params.set('after', query.after);
    let result = null;
    if (searched) {
      const answer = await gateway.searchAccessLog(request.session!.credential, filter, 25, query.after);
      result = answer.ok ? answer.data.accessLog : { error: `${answer.code}: ${answer.message}` };
    }
    return sendPage(reply, logPage(await context(request), filter, result, params));
  });
  const report = async (request: FastifyRequest) => {
    const uscc = text((request.query as Body).uscc)
      .trim()
      .toUpperCase();
    if (!uscc) return { uscc, report: null };
    const answer = await gateway.subjectReport(request.session!.credential, uscc);
    return {
      uscc,
      report: answer.ok ? answer.data.subjectAccessReport : { error: `${answer.code}: ${answer.message}` },
    };
  };
  app.get('/report', async (request, reply) => {
    const found = await report(request);
    return sendPage(reply, reportPage(await context(request), found.uscc, found.report));
  });
  app.get('/report/print', async (request, reply) => {
    const found = await report(request);
    return sendPage(reply, reportPage(await context(request), found.uscc, found.report, { print: true }));
  });
  app.get('/report.csv', async (request, reply) => {
    const found = await report(request);
    if (!found.report || 'error' in found.report)
      return reply
        .code(400)
        .header('x-console-refusal', 'BAD_INPUT')
        .type('text/plain; charset=utf-8')
        .send(found.report && 'error' in found.report ? found.report.error : 'uscc is required');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="subject-access-${found.uscc}.csv"`)
      .send(reportCsv(found.report.accesses));
  });

  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('console has no TCP address');
  return { url: `http://${options.host ?? '127.0.0.1'}:${address.port}`, close: () => app.close() };
}

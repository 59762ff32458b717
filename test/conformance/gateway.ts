/**
 * A gateway for conformance runs on foreign supergraphs (docs/conformance.md): Credence's own
 * gateway stages in front of any supergraph and its subgraphs, or the bare @apollo/gateway, on
 * the same HTTP layer and Apollo Server settings, so that the two differ only by Credence.
 *
 * `credence`: the policy check before planning and every rewrite of the executed document (skip
 * guards, subject keys for the access log, the planner's keys moved out of the way, filter
 * placeholders) with their undo on the answer (the execution stages of gateway/pipeline.ts, in
 * the order `gatewayStages` lists them, with the access log on), under a catalog drafted from
 * the supergraph as `npm run policy -- scaffold` drafts it (its TODOs decided for the test) and a
 * test policy allowing one test consumer every field. Every request is that consumer's: this
 * is a harness for comparing answers, never a way to run Credence (no authentication, no access
 * log store, no limits).
 *
 *   node test/conformance/gateway.ts --mode credence|bare --supergraph supergraph.graphql [--port 4000]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { createHttpApp, listen, mountGraphQL } from '../../lib/http.ts';
import { createLogger } from '../../lib/logger.ts';
import { buildApiSchema, policyTypes } from '../../lib/policy/decision/api-schema.ts';
import { parseCatalog } from '../../lib/policy/reference/catalog.ts';
import { loadMeasures } from '../../lib/policy/reference/measures.ts';
import { loadPolicyFromTexts } from '../../lib/policy/loading/load-policy.ts';
import { formatProblem } from '../../lib/policy/loading/problems.ts';
import { catalogItemsYaml, draftCatalogItems } from '../../lib/policy/officers/scaffold.ts';
import type { CompiledPolicy, Consumer, ConsumerView } from '../../lib/policy/decision/model.ts';
import { readGatewayConfig } from '../../gateway/config.ts';
import { withPipeline, type GatewayContext } from '../../gateway/policy-gateway.ts';
import { createPipeline } from '../../gateway/pipeline.ts';
import type { Stage } from '../../gateway/stages/stage.ts';
import { requestIdStage } from '../../gateway/stages/request-id.ts';
import { versionStampStage } from '../../gateway/stages/version-stamp.ts';
import { stripAddedStage } from '../../gateway/stages/strip-added.ts';
import { accessRecordingStage, type AccessRecorder } from '../../gateway/stages/access-recording.ts';
import { literalArgumentsStage } from '../../gateway/stages/literal-arguments.ts';
import { policyDecisionStage } from '../../gateway/stages/policy-decision.ts';
import { deniedFieldsStage } from '../../gateway/stages/denied-fields.ts';
import { skipGuardsStage } from '../../gateway/stages/skip-guards.ts';
import { subjectKeysStage } from '../../gateway/stages/subject-keys.ts';
import { keyAliasesStage } from '../../gateway/stages/key-aliases.ts';
import { departmentCallsStage } from '../../gateway/stages/department-calls.ts';

export const CONFORMANCE_CONSUMER = 'conformance-tester';
export const CONFORMANCE_PURPOSE = 'CONFORMANCE';

/** The catalog `scaffold` drafts for every field of a supergraph, its TODOs decided for the test. */
export function conformanceCatalog(supergraphSdl: string): string {
  const items = draftCatalogItems({
    schema: buildApiSchema(supergraphSdl),
    covered: new Set(),
    department: 'conformance',
  });
  return `items:\n${catalogItemsYaml(items, 'conformance')
    .replaceAll('category: TODO', 'category: REGISTRATION')
    .replaceAll('classification: TODO', 'classification: SHARED')
    .replaceAll('legalBasis: TODO', 'legalBasis: "Conformance test of the gateway"')}`;
}

/** One test consumer allowed every field of every type of the supergraph. */
export function conformancePolicyFiles(supergraphSdl: string): Record<string, string> {
  const allow = policyTypes(buildApiSchema(supergraphSdl)).map((type) => `${type.name}.*`);
  return {
    'conformance.yaml': [
      'purposes:',
      `  - id: ${CONFORMANCE_PURPOSE}`,
      '    description: Comparing answers with the bare gateway.',
      'consumers:',
      `  - id: ${CONFORMANCE_CONSUMER}`,
      '    name: Conformance tester',
      `    purposes: [${CONFORMANCE_PURPOSE}]`,
      `    defaultPurpose: ${CONFORMANCE_PURPOSE}`,
      '    mode: reject',
      '    credentials:',
      '      apiKeys:',
      `        - { id: ${CONFORMANCE_CONSUMER}, sha256: "${'0'.repeat(64)}" }`,
      'rules:',
      `  - id: ${CONFORMANCE_CONSUMER}-sees-everything`,
      '    description: The conformance tester sees every field.',
      `    consumers: [${CONFORMANCE_CONSUMER}]`,
      `    allow: [${allow.join(', ')}]`,
      '',
    ].join('\n'),
  };
}

export interface ConformancePolicy {
  policy: CompiledPolicy;
  consumer: Consumer;
  view: ConsumerView;
}

/** The test policy compiled against the supergraph, checked against its drafted catalog (R1) like any policy. */
export function conformancePolicy(supergraphSdl: string): ConformancePolicy {
  const schema = buildApiSchema(supergraphSdl);
  const catalog = parseCatalog('conformance-catalog.yaml', conformanceCatalog(supergraphSdl));
  if (!catalog.ok)
    throw new Error(`the drafted catalog is invalid:\n${catalog.problems.map(formatProblem).join('\n')}`);
  const loaded = loadPolicyFromTexts(conformancePolicyFiles(supergraphSdl), schema, {
    referenceData: { catalog: catalog.catalog, measures: loadMeasures() },
  });
  if (!loaded.ok) throw new Error(`the conformance policy is invalid:\n${loaded.errors.map(formatProblem).join('\n')}`);
  const consumer = loaded.policy.consumers.get(CONFORMANCE_CONSUMER);
  const view = loaded.policy.view(CONFORMANCE_CONSUMER, CONFORMANCE_PURPOSE);
  if (!consumer || !view) throw new Error('the conformance consumer is missing');
  return { policy: loaded.policy, consumer, view };
}

/** What the access log would be handed: the answer passes through (the harness has no log store). */
const passThroughAccessLog: AccessRecorder = {
  record: async (request) => request.result,
  recordRefused: async () => true,
};

/**
 * The execution stages of the gateway's pipeline, in `gatewayStages`' order, as they run with the
 * access log on (subject keys added); the stages before execution (authentication, purpose,
 * rates, admission) have nothing to compare and are left out.
 */
export function conformanceStages(): Stage[] {
  return [
    requestIdStage(),
    versionStampStage,
    stripAddedStage,
    accessRecordingStage(passThroughAccessLog),
    literalArgumentsStage(),
    policyDecisionStage(),
    deniedFieldsStage,
    skipGuardsStage,
    subjectKeysStage,
    keyAliasesStage(),
    departmentCallsStage,
  ];
}

export interface ConformanceGateway {
  graphqlUrl: string;
  close(): Promise<void>;
}

export async function startConformanceGateway(options: {
  supergraphSdl: string;
  mode: 'credence' | 'bare';
  port?: number;
}): Promise<ConformanceGateway> {
  const log = createLogger('conformance');
  const apollo = new ApolloGateway({ supergraphSdl: options.supergraphSdl, logger: log });
  const app = createHttpApp({ log, readiness: [], status: () => ({ service: `conformance-${options.mode}` }) });
  let loaded = false;
  app.get('/health', async (_request, reply) => reply.code(loaded ? 200 : 503).send(loaded ? 'OK' : 'loading'));

  let close: () => Promise<void>;
  if (options.mode === 'bare') {
    const server = new ApolloServer<BaseContext>({ gateway: apollo, introspection: true });
    await server.start();
    mountGraphQL(app, server, async () => ({}));
    close = () => server.stop();
  } else {
    const { policy, consumer, view } = conformancePolicy(options.supergraphSdl);
    const limits = readGatewayConfig({}).defaultLimits;
    const server = new ApolloServer<GatewayContext>({
      gateway: withPipeline(apollo, createPipeline(conformanceStages())),
      introspection: true,
    });
    await server.start();
    mountGraphQL(app, server, async () => ({
      identity: {
        consumer,
        purpose: CONFORMANCE_PURPOSE,
        policy,
        view,
        requestId: randomUUID(),
        assertionFor: () => '',
      },
      limits,
      access: { servedSubjects: new Set<string>(), recorded: false },
    }));
    close = () => server.stop();
  }
  loaded = true;
  const url = await listen(app, options.port ?? 0);
  return {
    graphqlUrl: `${url}/graphql`,
    close: async () => {
      await close();
      await app.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { mode: { type: 'string' }, supergraph: { type: 'string' }, port: { type: 'string' } },
  });
  if ((values.mode !== 'credence' && values.mode !== 'bare') || !values.supergraph) {
    console.error('usage: node test/conformance/gateway.ts --mode credence|bare --supergraph <file> [--port 4000]');
    process.exit(2);
  }
  const gateway = await startConformanceGateway({
    supergraphSdl: readFileSync(values.supergraph, 'utf8'),
    mode: values.mode,
    port: Number(values.port ?? 4000),
  });
  console.log(`${values.mode} gateway at ${gateway.graphqlUrl}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void gateway.close().finally(() => process.exit(0)));
}

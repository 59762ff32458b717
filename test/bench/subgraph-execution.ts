/**
 * What policy enforcement costs inside one department: the registry executing a 2,000-row by
 * 8-field entity list with enforcement (graphql-shield on declared resolvers, the operation
 * guard, masks: `enforceOnSchema` + `policyPlugin`, as `startSubgraph` serves it) against the same
 * schema without enforcement (`departmentSchema(registry)`), in this process through
 * `server.executeOperation` (no HTTP, no JSON), so the figure is GraphQL execution alone.
 *
 * The view is a real one from the shipped policy: the public portal under PUBLIC_DISCLOSURE, which
 * sees every field asked for but LegalRepresentative.idNumber masked (a default-resolved field)
 * and may not see LegalRepresentative.phone. Before anything is timed, the enforced server is
 * shown to enforce: every row's ID number comes back masked, and asking for the phone is refused.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer, type GraphQLResponse } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { applyMask } from '../../lib/policy/decision/masks.ts';
import type { ConsumerView } from '../../lib/policy/decision/model.ts';
import { DEFAULT_SUPERGRAPH_PATH, policyCompiler } from '../../lib/policy/releases/process-policy.ts';
import { readPolicyBundle } from '../../lib/policy/loading/bundle.ts';
import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import type { RequestContext } from '../../subgraphs/runtime/department.ts';
import { enforceOnSchema, policyPlugin, type PolicyContext } from '../../subgraphs/runtime/enforcement.ts';
import { withKey } from '../../subgraphs/runtime/loaders.ts';
import { departmentSchema } from '../../subgraphs/runtime/server.ts';
import { registry } from '../../subgraphs/registry/index.ts';
import type { RegistryLoaders } from '../../subgraphs/registry/loaders.ts';
import type { RegistryModels, SubjectDocument } from '../../subgraphs/registry/models.ts';

export interface ExecutionSettings {
  /** Rows in the entity list. */
  rows: number;
  /** Executions per batch; batches of the two servers alternate. */
  batch: number;
  /** Measured rounds; each round is one batch of each server. */
  rounds: number;
}

export interface ExecutionComparison {
  settings: ExecutionSettings;
  /** Who the enforced server executes as. */
  caller: { consumer: string; purpose: string };
  /** What verification established, in words. */
  verified: string;
  /** Mean milliseconds per execution over all measured batches. */
  enforcedMs: number;
  bareMs: number;
  /** Mean milliseconds per execution, per round. */
  enforcedRounds: number[];
  bareRounds: number[];
}

/** The consumer and purpose whose view the enforced server applies. */
const CALLER = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' } as const;
/** Visible but masked for the caller, and resolved by graphql's default resolver (no middleware sees it). */
const MASKED = { type: 'LegalRepresentative', field: 'idNumber' } as const;
/** Denied to the caller, and default-resolved: only the operation guard can refuse it. */
const DENIED = { type: 'LegalRepresentative', field: 'phone' } as const;

/** 8 fields per row, as the gateway sends an entity fetch: the list comes from `representations`. */
const SUBJECT_FIELDS = 'uscc name entityType status address registeredCapital establishedOn legalRepresentative';
const entitiesQuery = (legalRepresentative: string): string =>
  `query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Subject { ${SUBJECT_FIELDS} { ${legalRepresentative} } } } }`;
const QUERY = entitiesQuery(MASKED.field);
const DENIED_QUERY = entitiesQuery(`${MASKED.field} ${DENIED.field}`);

/** The bare side: models and loaders only (reads need none of the enforcement's context). */
type RegistryContext = Pick<RequestContext<RegistryModels, RegistryLoaders>, 'models' | 'loaders'>;
type EnforcedContext = RegistryContext & PolicyContext;

interface Row {
  uscc: string;
  name: string;
  legalRepresentative: { idNumber: string; phone?: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function singleResult(response: GraphQLResponse): {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
} {
  if (response.body.kind !== 'single') throw new Error('expected a single result, got an incremental one');
  return response.body.singleResult;
}

function rowsOf(response: GraphQLResponse, what: string): Row[] {
  const result = singleResult(response);
  if (result.errors) throw new Error(`${what}: errors ${JSON.stringify(result.errors).slice(0, 500)}`);
  const rows = result.data?._entities;
  if (!Array.isArray(rows)) throw new Error(`${what}: no _entities list in the answer`);
  return rows as Row[];
}

/** The caller's view under the policy in `policiesDir`, compiled as every process compiles it (no shared store needed). */
async function loadView(policiesDir: string): Promise<{ view: ConsumerView; policyVersion: string }> {
  const compile = policyCompiler(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
  const compiled = await compile(await readPolicyBundle(policiesDir));
  if (!compiled.ok) throw new Error(`The policy in ${policiesDir} is invalid:\n${compiled.errors.join('\n')}`);
  const view = compiled.policy.view(CALLER.consumer, CALLER.purpose);
  if (!view) throw new Error(`The policy gives ${CALLER.consumer} no view under ${CALLER.purpose}.`);
  return { view, policyVersion: compiled.policy.version };
}

/** The bench's own premise, checked against the shipped policy rather than assumed. */
function checkPremise(view: ConsumerView): void {
  for (const field of SUBJECT_FIELDS.split(' ')) {
    const decision = view.field('Subject', field);
    if (decision.effect !== 'allow' && field !== 'uscc')
      throw new Error(
        `${CALLER.consumer} may not see Subject.${field} (${decision.effect}); the benchmark needs a view that shows every field it asks for.`,
      );
  }
  const masked = view.field(MASKED.type, MASKED.field);
  if (masked.effect !== 'mask' || !masked.mask)
    throw new Error(
      `${CALLER.consumer} sees ${MASKED.type}.${MASKED.field} as "${masked.effect}", not masked; pick another field or consumer.`,
    );
  const denied = view.field(DENIED.type, DENIED.field);
  if (denied.effect !== 'deny')
    throw new Error(
      `${CALLER.consumer} sees ${DENIED.type}.${DENIED.field} as "${denied.effect}", not denied; pick another field or consumer.`,
    );
}

export async function compareSubgraphExecution(options: {
  mongoUri: string;
  policiesDir: string;
  settings: ExecutionSettings;
  progress: (message: string) => void;
}): Promise<ExecutionComparison> {
  const { settings, progress } = options;
  const { view, policyVersion } = await loadView(options.policiesDir);
  checkPremise(view);
  const mask = view.field(MASKED.type, MASKED.field).mask ?? 'REDACT';

  const connection = await connectDatabase(options.mongoUri, departmentDatabaseName(registry.name));
  try {
    const models = registry.defineModels(connection);
    // The documents are read once, here. Each execution below gets fresh per-request loaders
    // (as every real request does) primed with them, so `__resolveReference` is answered from
    // the DataLoader cache and the store is never asked while timing: what is measured is
    // execution (parse/validate caches aside), the part enforcement adds to, and not database
    // latency, which both would pay alike and which would drown the difference.
    // Shaped as the registry's loader shapes them (the code also under `uscc`).
    const documents = (
      (await models.Subject.find({}).sort({ _id: 1 }).limit(settings.rows).lean()) as SubjectDocument[]
    ).map((document) => withKey(document, 'uscc'));
    if (documents.length === 0) throw new Error('The registry holds no subjects.');
    // With fewer subjects seeded than rows, codes repeat: the list is still `rows` long.
    const representations = Array.from({ length: settings.rows }, (_, index) => ({
      __typename: 'Subject',
      uscc: (documents[index % documents.length] as SubjectDocument)._id,
    }));
    const variables = { representations };
    const primedLoaders = (): RegistryLoaders => {
      const loaders = registry.createLoaders(models);
      for (const document of documents) loaders.subject.prime(document._id, document);
      return loaders;
    };
    const bareContext = (): RegistryContext => ({ models, loaders: primedLoaders() });
    const enforcedContext = (): EnforcedContext => ({
      models,
      loaders: primedLoaders(),
      view,
      policyVersion,
      now: new Date(),
    });

    // startSubgraph's Apollo Server settings that bear on execution, on both sides: they differ in enforcement only.
    const enforcedSchema = enforceOnSchema(departmentSchema(registry));
    const enforced = new ApolloServer<EnforcedContext>({
      schema: enforcedSchema,
      introspection: false,
      plugins: [ApolloServerPluginInlineTraceDisabled(), policyPlugin(enforcedSchema)],
    });
    const bare = new ApolloServer<RegistryContext>({
      schema: departmentSchema(registry),
      introspection: false,
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    await Promise.all([enforced.start(), bare.start()]);
    try {
      // Verification: the enforced figure is only worth printing if enforcement works.
      const byCode = new Map(documents.map((document) => [document._id, document]));
      const enforcedRows = rowsOf(
        await enforced.executeOperation({ query: QUERY, variables }, { contextValue: enforcedContext() }),
        'enforced execution',
      );
      const bareRows = rowsOf(
        await bare.executeOperation({ query: QUERY, variables }, { contextValue: bareContext() }),
        'execution without enforcement',
      );
      if (enforcedRows.length !== settings.rows || bareRows.length !== settings.rows) {
        throw new Error(
          `expected ${settings.rows} rows from both, got ${enforcedRows.length} enforced and ${bareRows.length} without enforcement`,
        );
      }
      enforcedRows.forEach((row, index) => {
        const stored = byCode.get(row.uscc)?.legalRepresentative.idNumber;
        const expected = stored === undefined ? undefined : applyMask(mask, stored);
        if (!stored || row.legalRepresentative.idNumber !== expected || expected === stored) {
          throw new Error(
            `row ${index} (${row.uscc}): ${MASKED.type}.${MASKED.field} is "${row.legalRepresentative.idNumber}", expected it masked with ${mask}`,
          );
        }
        const plain = bareRows[index];
        if (plain?.legalRepresentative.idNumber !== stored)
          throw new Error(`row ${index}: without enforcement the ${MASKED.field} should be the stored one`);
        // Everything else is identical: enforcement changed the masked field and nothing more.
        if (
          JSON.stringify({ ...row, legalRepresentative: null }) !==
          JSON.stringify({ ...plain, legalRepresentative: null })
        ) {
          throw new Error(`row ${index}: enforced and unenforced answers differ beyond the masked field`);
        }
      });
      const refused = singleResult(
        await enforced.executeOperation({ query: DENIED_QUERY, variables }, { contextValue: enforcedContext() }),
      );
      const code = refused.errors?.[0]?.extensions?.code;
      if (code !== 'FORBIDDEN' || (isRecord(refused.data) && refused.data._entities !== undefined)) {
        throw new Error(
          `asking for ${DENIED.type}.${DENIED.field} was not refused: ${JSON.stringify(refused).slice(0, 500)}`,
        );
      }
      const answered = rowsOf(
        await bare.executeOperation({ query: DENIED_QUERY, variables }, { contextValue: bareContext() }),
        'denied field without enforcement',
      );
      if (answered.some((row) => typeof row.legalRepresentative.phone !== 'string'))
        throw new Error(`${DENIED.field} is not answered even without enforcement; the refusal above proves nothing`);
      const verified =
        `${settings.rows} of ${settings.rows} rows came back with ${MASKED.type}.${MASKED.field} masked (${mask}), ` +
        `asking for ${DENIED.type}.${DENIED.field} was refused (FORBIDDEN), and both are answered in the clear without enforcement`;
      progress(`enforcement verified: ${verified}`);

      let failures = 0;
      const runBatch = async <Context extends RegistryContext>(
        server: ApolloServer<Context>,
        context: () => Context,
      ): Promise<number> => {
        // Contexts (and their primed loaders) are built before the clock starts.
        const contexts = Array.from({ length: settings.batch }, context);
        const started = performance.now();
        for (const contextValue of contexts) {
          const result = singleResult(await server.executeOperation({ query: QUERY, variables }, { contextValue }));
          if (result.errors) failures++;
        }
        return (performance.now() - started) / settings.batch;
      };
      const enforcedBatch = (): Promise<number> => runBatch(enforced, enforcedContext);
      const bareBatch = (): Promise<number> => runBatch(bare, bareContext);

      progress(`subgraph execution: warming up (${2 * settings.batch} executions each)`);
      for (let i = 0; i < 2; i++) {
        await enforcedBatch();
        await bareBatch();
      }
      const enforcedRounds: number[] = [];
      const bareRounds: number[] = [];
      for (let round = 1; round <= settings.rounds; round++) {
        progress(`subgraph execution: round ${round}/${settings.rounds} (${settings.batch} executions each)`);
        // ABBA order: whichever runs second in a round (after the other's garbage) alternates.
        if (round % 2 === 1) {
          enforcedRounds.push(await enforcedBatch());
          bareRounds.push(await bareBatch());
        } else {
          bareRounds.push(await bareBatch());
          enforcedRounds.push(await enforcedBatch());
        }
      }
      if (failures > 0)
        throw new Error(`${failures} timed executions answered with errors; the figures are not trustworthy.`);
      const mean = (values: number[]): number => values.reduce((total, value) => total + value, 0) / values.length;
      return {
        settings,
        caller: CALLER,
        verified,
        enforcedMs: mean(enforcedRounds),
        bareMs: mean(bareRounds),
        enforcedRounds,
        bareRounds,
      };
    } finally {
      await Promise.all([enforced.stop(), bare.stop()]);
    }
  } finally {
    await connection.close();
  }
}

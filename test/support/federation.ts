/**
 * A whole federation for a test file: the embedded store (or MONGODB_URI) with databases of its
 * own, seed data, the five department subgraphs and the gateway, all real servers on port 0,
 * with real Redis, real keys and a real policy: the shipped one plus a test consumer that may
 * see everything (for tests about the federation itself rather than about the policy).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInterfaceType, isObjectType } from 'graphql';
import { generateApiKey, hashApiKey } from '../../lib/identity/api-keys.ts';
import {
  createAssertionSigner,
  createAssertionVerifier,
  generateAssertionKeyPair,
} from '../../lib/identity/assertion.ts';
import { createReplayGuard, type ReplayGuard } from '../../lib/identity/replay-guard.ts';
import { createLogger } from '../../lib/logger.ts';
import { buildApiSchema, isFederationInternal } from '../../lib/policy/decision/api-schema.ts';
import { RECORD_TYPES } from '../../lib/policy/decision/records.ts';
import {
  DEFAULT_POLICIES_DIR,
  DEFAULT_SUPERGRAPH_PATH,
  startPolicyRuntime,
} from '../../lib/policy/releases/process-policy.ts';
import { releasesDirectory } from '../../lib/policy/releases/signed-release.ts';
import { isPolicySource, releaseFolder, testReleaseKey, type TestReleaseKey } from './release.ts';
import type { PolicyRuntime } from '../../lib/policy/releases/policy-in-force.ts';
import type { ConsumerLimits } from '../../lib/policy/decision/model.ts';
import { startMongo, type MongoServer } from '../../lib/stores/mongo.ts';
import { ACCESS_LOG_DEPARTMENT } from '../../lib/access-log/store.ts';
import { startAccessLog, type AccessLogConfig, type OpenedAccessLog } from '../../lib/access-log/process.ts';
import { connectSharedStore, type SharedStore } from '../../lib/stores/shared-store.ts';
import { readGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/server.ts';
import { readDemoKeys } from '../../scripts/demo-keys.ts';
import { departments } from '../../subgraphs/departments.ts';
import type { AnyDepartment } from '../../subgraphs/runtime/department.ts';
import { startSubgraph, type SubgraphServer } from '../../subgraphs/runtime/server.ts';
import { seedAll } from '../../subgraphs/seed.ts';
import { dropDepartmentDatabases } from './databases.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface GraphQLResponse {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

/** Who a test request is sent as: a consumer of the policy (its API key is used) and a purpose. */
export interface Caller {
  consumer: string;
  purpose?: string;
}

/** Limits no test request reaches: for tests about something else than limits (the policy, the federation). */
export const NO_LIMITS: Required<ConsumerLimits> = {
  depth: 100,
  aliases: 100_000,
  rootFields: 10_000,
  cost: 1_000_000_000,
  tokens: 1_000_000,
  documentBytes: 10_000_000,
  requestsPerMinute: 1_000_000_000,
  requestsPerDay: 1_000_000_000,
};

/** The test-only consumer that may see every field and every record. */
export const INSPECTOR: Caller = { consumer: 'test-inspector', purpose: 'TESTING' };

export interface Federation {
  mongo: MongoServer;
  gateway: Gateway;
  subgraphs: Map<string, SubgraphServer>;
  policies: PolicyRuntime;
  policiesDir: string;
  /** API keys by consumer id (the demo keys, and the inspector's). */
  apiKeys: ReadonlyMap<string, string>;
  /** The gateway's access log (its writer names its chain). */
  accessLog: OpenedAccessLog;
  /** The proxy between the gateway and its access-log store, when the test asked for one. */
  accessLogProxy: TcpProxy | undefined;
  /** The day the seed data is dated from: the start of the real (or faked) current UTC day. */
  seedReferenceDate: Date;
  /** The policy release key pair the federation trusts (releases of the test's own changes are signed with it). */
  releaseKeys: TestReleaseKey;
  /** The gateway's assertion key pair (for gateway processes a test starts itself). */
  assertionKeys: { privateKeyPem: string; publicKeyPem: string; keyId: string };
  /** The departments' replay guard (for a department a test restarts itself). */
  replayGuard: ReplayGuard;
  /** Signs assertions with the gateway's key, each for one department call (to test what subgraphs accept). */
  signAssertion: ReturnType<typeof createAssertionSigner>['sign'];
  /** POSTs a GraphQL operation to the gateway as `caller` (the inspector by default). */
  query(query: string, variables?: Record<string, unknown>, caller?: Caller): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface FederationOptions {
  subjects: number;
  /** Extra Apollo Server plugins for a department's subgraph. */
  subgraphPlugins?: (department: string) => ApolloServerPlugin[];
  /** Reach the access-log store through a proxy the test can cut (accessLogProxy). */
  accessLogThroughProxy?: boolean;
  /** Settings of the gateway's access log: checkpoints, timeouts, the journal. */
  accessLog?: Partial<
    Pick<
      AccessLogConfig,
      'checkpointEvery' | 'checkpointIntervalMs' | 'writeTimeoutMs' | 'journalDir' | 'shipIntervalMs' | 'maxLagMs'
    >
  >;
  /** Default limits of the gateway changed for this federation (a test sending thousands of requests raises the rate). */
  gatewayLimits?: Partial<Required<ConsumerLimits>>;
  /** Changes to the copied policy folder made before its first release (a test's own consumers or purposes). */
  preparePolicies?: (policiesDir: string) => Promise<void>;
  /** How long the gateway waits for one department call (the gateway's default otherwise). */
  subgraphTimeoutMs?: number;
  /** Departments run beside the shipped ones (a sample department), with the supergraph that composes them all. */
  extraDepartments?: { departments: readonly AnyDepartment[]; supergraphPath: string };
}

process.env.LOG_LEVEL ??= 'silent';

/** `Type.*` for every object type of the API schema: a rule allowing these shows every field. */
export function everyTypePattern(supergraphPath: string = DEFAULT_SUPERGRAPH_PATH): string[] {
  const schema = buildApiSchema(readFileSync(supergraphPath, 'utf8'));
  return Object.values(schema.getTypeMap())
    .filter(
      (type) =>
        (isObjectType(type) || isInterfaceType(type)) &&
        !type.name.startsWith('__') &&
        !isFederationInternal(type.name),
    )
    .map((type) => `${type.name}.*`)
    .sort();
}

/** A policy file granting the inspector every field and all history, written beside the shipped policy. */
function inspectorPolicy(keyHash: string, supergraphPath: string): string {
  const allow = everyTypePattern(supergraphPath);
  return [
    'purposes:',
    '  - id: TESTING',
    '    description: Tests of the federation itself.',
    'consumers:',
    '  - id: test-inspector',
    '    name: Test inspector',
    '    purposes: [TESTING]',
    '    defaultPurpose: TESTING',
    '    mode: reject',
    // Tests and the load script ask the inspector for everything, often: no operation limit or rate applies to it.
    `    limits: ${JSON.stringify(NO_LIMITS)}`,
    '    credentials:',
    '      apiKeys:',
    `        - { id: test-inspector, sha256: "${keyHash}" }`,
    'rules:',
    '  - id: test-inspector-everything',
    '    description: The test inspector sees every field.',
    '    consumers: [test-inspector]',
    `    allow: [${allow.join(', ')}]`,
    '  - id: test-inspector-history',
    '    description: The test inspector sees every record.',
    '    consumers: [test-inspector]',
    '    records:',
    ...Object.keys(RECORD_TYPES).map((type) => `      ${type}: { history: true, disclosureWindow: false }`),
    '',
  ].join('\n');
}

export async function startFederation(options: FederationOptions): Promise<Federation> {
  const log = createLogger('test');
  const dataDir = await mkdtemp(join(tmpdir(), 'credence-test-'));
  // Each test file gets its own databases and Redis namespace, also on shared servers.
  process.env.MONGODB_DB_PREFIX = `credence_test_${process.pid}_`;
  const redisNamespace = `credence-test-${process.pid}`;
  process.env.CREDENCE_REDIS_NAMESPACE = redisNamespace;

  const policiesDir = join(dataDir, 'policies');
  await cp(DEFAULT_POLICIES_DIR, policiesDir, { recursive: true, filter: isPolicySource });
  const inspectorKey = generateApiKey();
  const supergraphPath = options.extraDepartments?.supergraphPath ?? DEFAULT_SUPERGRAPH_PATH;
  const allDepartments = [...departments, ...(options.extraDepartments?.departments ?? [])];
  await writeFile(join(policiesDir, 'test-inspector.yaml'), inspectorPolicy(hashApiKey(inspectorKey), supergraphPath));
  await options.preparePolicies?.(policiesDir);
  const apiKeys = new Map([...readDemoKeys(policiesDir), ['test-inspector', inspectorKey]]);

  // Seed data dated from today, not from a fixed day: records inside and past their disclosure
  // windows, ended and restored ones, exist whenever the tests run.
  const seedReferenceDate = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  const mongo = await startMongo({ dataDir, log });
  // Should anything below fail, what was started is stopped, so the test fails instead of hanging
  // on a store process still running.
  const started: (() => Promise<void> | void)[] = [
    async () => {
      await mongo.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  ];
  const stopStarted = async (): Promise<void> => {
    for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => {});
  };
  try {
    await seedAll({
      mongoUri: mongo.uri,
      subjects: options.subjects,
      log,
      referenceDate: seedReferenceDate,
      departments: allDepartments,
    });
    const sharedStore: SharedStore = await connectSharedStore(log);
    started.push(() => sharedStore.close());
    // The copied policy goes into force as the federation's first signed release.
    const releaseKeys = testReleaseKey();
    await releaseFolder(policiesDir, releasesDirectory(policiesDir, {}), releaseKeys);
    const policies = await startPolicyRuntime({
      dir: policiesDir,
      sharedStore,
      log,
      watch: false,
      trustedKeys: releaseKeys.trusted,
      supergraphPath,
    });
    started.push(() => policies.close());
    const keys = generateAssertionKeyPair();
    const signer = createAssertionSigner({ privateKey: keys.privateKeyPem, keyId: keys.keyId });
    const assertions = createAssertionVerifier({ publicKeys: { [keys.keyId]: keys.publicKeyPem } });

    const replayGuard = createReplayGuard(sharedStore, redisNamespace);
    const subgraphs = new Map<string, SubgraphServer>();
    for (const department of allDepartments) {
      const plugins = options.subgraphPlugins?.(department.name) ?? [];
      const subgraph = await startSubgraph(department, {
        mongoUri: mongo.uri,
        plugins,
        policies,
        assertions,
        replayGuard,
        // Tests count the store commands a query costs (n-plus-one.test.ts).
        monitorCommands: true,
      });
      started.push(() => subgraph.close());
      subgraphs.set(department.name, subgraph);
    }
    // As npm start does: the store gets the indexes its queries can use once every department has declared its own.
    await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
    const config = readGatewayConfig({ CREDENCE_REDIS_NAMESPACE: redisNamespace });
    const mongoPort = Number(new URL(mongo.uri).port);
    const accessLogProxy = options.accessLogThroughProxy
      ? await startTcpProxy({ host: '127.0.0.1', port: mongoPort })
      : undefined;
    if (accessLogProxy) started.push(() => accessLogProxy.close());
    const accessLog = await startAccessLog(
      {
        ...config.accessLog,
        ...options.accessLog,
        mongoUri: accessLogProxy ? accessLogProxy.through(mongo.uri) : mongo.uri,
        instance: `test-gateway-${process.pid}`,
      },
      { log, port: 0 },
    );
    if (!accessLog) throw new Error('the access log is on in tests');
    started.push(() => accessLog.close());
    const gateway = await startGateway(
      {
        ...config,
        supergraphPath,
        defaultLimits: { ...config.defaultLimits, ...options.gatewayLimits },
        ...(options.subgraphTimeoutMs ? { subgraphTimeoutMs: options.subgraphTimeoutMs } : {}),
        port: 0,
        subgraphUrls: Object.fromEntries([...subgraphs].map(([name, subgraph]) => [name, subgraph.graphqlUrl])),
      },
      { sharedStore, policies, policiesDir, signer, accessLog: accessLog.writer },
    );

    return {
      mongo,
      gateway,
      subgraphs,
      policies,
      policiesDir,
      apiKeys,
      accessLog,
      accessLogProxy,
      seedReferenceDate,
      assertionKeys: keys,
      replayGuard,
      releaseKeys,
      signAssertion: (identity, binding, now) => signer.sign(identity, binding, now),
      query: async (query, variables, caller = INSPECTOR) => {
        const key = apiKeys.get(caller.consumer);
        if (!key) throw new Error(`no API key for consumer ${caller.consumer}`);
        const response = await fetch(gateway.graphqlUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-api-key': key,
            ...(caller.purpose ? { 'x-credence-purpose': caller.purpose } : {}),
          },
          body: JSON.stringify({ query, variables }),
        });
        return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
      },
      close: async () => {
        await gateway.close();
        await accessLogProxy?.restore();
        await accessLog.close();
        await accessLogProxy?.close();
        // A subgraph a test stopped already is closed; closing it again is harmless to skip.
        for (const subgraph of subgraphs.values()) await subgraph.close().catch(() => {});
        await policies.close();
        await sharedStore.close();
        await dropDepartmentDatabases(mongo.uri, options.extraDepartments?.departments);
        await mongo.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}

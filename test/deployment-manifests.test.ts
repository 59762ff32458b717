/**
 * The Kubernetes manifests of deploy/kubernetes (docs/deployment.md), checked without a cluster
 * and without network: every object against the Kubernetes API's JSON schemas bundled in the
 * `kubernetes-models` package (types, required fields, formats), then against the topology the
 * documentation describes: one Deployment, Service, autoscaler and disruption budget per
 * department of subgraphs/departments.ts and for the gateway; probes on /readyz and /healthz;
 * requests and limits; non-root, read-only pods; keys only from Secrets; departments reachable
 * only from gateways; only /graphql public.
 *
 * The schemas do not reject unknown fields (the API's OpenAPI schemas allow them; the API server
 * refuses them only with strict field validation), so what matters is also checked by name here:
 * a misspelt `readinessProbe` fails the probe check.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { departments } from '../subgraphs/departments.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MANIFESTS_DIR = join(ROOT, 'deploy', 'kubernetes');
const NAMESPACE = 'credence';

/** The operator listeners' ports (/metrics, /status), set in the manifests. */
const OPERATOR_PORTS = { gateway: 9400, department: 9401 } as const;
const OPERATOR_PORT_SET: ReadonlySet<number> = new Set(Object.values(OPERATOR_PORTS));
const MONITORING_NAMESPACE = { 'kubernetes.io/metadata.name': 'monitoring' };

/** The kinds the manifests may use, each with its schema; any other kind is refused. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

/** An object and the file it was read from. */
interface Manifest extends KubernetesObject {
  file: string;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(entry.name) ? [path] : [];
    })
    .sort();
}

/** Every object of a YAML text; a syntax error is a failure naming the file. */
function parseManifests(text: string, file: string): Manifest[] {
  return parseAllDocuments(text).flatMap((document): Manifest[] => {
    assert.deepEqual(
      document.errors.map((error) => error.message),
      [],
      `${file}: YAML errors`,
    );
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return [];
    assert.ok(typeof value === 'object' && !Array.isArray(value), `${file}: each document is an object`);
    const object = value as KubernetesObject;
    return [{ ...object, file }];
  });
}

/** The schema's verdict on one object: an empty list, or what is wrong, named by file, kind and name. */
function schemaProblems(manifest: Manifest): string[] {
  const where = `${manifest.file}: ${manifest.kind} ${manifest.metadata?.name ?? '(no name)'}`;
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model)
    return [`${where}: no schema for ${manifest.apiVersion} ${manifest.kind} (add it to MODELS if it is meant)`];
  const object: Record<string, unknown> = { ...manifest };
  delete object.file;
  try {
    new Model(object as never).validate();
    return [];
  } catch (error) {
    return [`${where}: ${(error as Error).message}`];
  }
}

const manifests = yamlFiles(MANIFESTS_DIR).flatMap((path) =>
  parseManifests(readFileSync(path, 'utf8'), relative(ROOT, path)),
);
const ofKind = (kind: string): Manifest[] => manifests.filter((manifest) => manifest.kind === kind);
const named = (kind: string, name: string): Manifest | undefined =>
  ofKind(kind).find((manifest) => manifest.metadata.name === name);
const podSpec = (deployment: Manifest): IPodSpec => (deployment.spec as { template: { spec: IPodSpec } }).template.spec;
const podLabels = (deployment: Manifest): Record<string, string> =>
  (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** The services Credence runs: the gateway and every department the code ships. */
const SERVICES = ['gateway', ...departments.map(({ name }) => name)];

/** Source text of the processes, to check that every variable a manifest sets is one the code reads. */
const SOURCE = ['gateway', 'lib', 'subgraphs']
  .flatMap((dir) => yamlOrTs(join(ROOT, dir)))
  .map((path) => readFileSync(path, 'utf8'))
  .join('\n');
function yamlOrTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlOrTs(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Keys that sign: never in the cluster (the policy officers' and the privacy office's), by the variables the code reads them from. */
const KEYS_KEPT_OUT = ['CREDENCE_RELEASE_PRIVATE_KEY', 'CREDENCE_AUDIT_PRIVATE_KEY'];
/** The keys each kind of pod must get, from Secrets. */
const KEYS_FROM_SECRETS = {
  gateway: [
    'CREDENCE_ASSERTION_PRIVATE_KEY',
    'CREDENCE_ACCESS_LOG_PRIVATE_KEY',
    'CREDENCE_RELEASE_PUBLIC_KEYS',
    'REDIS_URL',
    'ACCESS_LOG_MONGODB_URI',
  ],
  department: ['CREDENCE_ASSERTION_PUBLIC_KEYS', 'CREDENCE_RELEASE_PUBLIC_KEYS', 'REDIS_URL', 'MONGODB_URI'],
};

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('every object is valid against the Kubernetes API schemas, offline', () => {
    assert.ok(manifests.length > 0, 'manifests found');
    assert.deepEqual(manifests.flatMap(schemaProblems), []);
  });

  it('the schema check fails on a broken manifest: a wrong type, a missing required field, an unknown kind', () => {
    const gateway = named('Deployment', 'gateway');
    assert.ok(gateway);
    const copy = structuredClone(gateway);
    (copy.spec as Record<string, unknown>).replicas = 'three';
    assert.match(schemaProblems(copy).join('\n'), /spec\/replicas must be integer/);
    const noSelector = structuredClone(gateway);
    delete (noSelector.spec as Record<string, unknown>).selector;
    assert.match(schemaProblems(noSelector).join('\n'), /spec must have required property selector/);
    const [broken] = parseManifests('apiVersion: apps/v1\nkind: Deploymnet\nmetadata: { name: x }\n', 'inline.yaml');
    assert.ok(broken);
    assert.match(schemaProblems(broken).join('\n'), /no schema for apps\/v1 Deploymnet/);
    assert.throws(() => parseManifests('a: [unclosed\n', 'inline.yaml'), /inline\.yaml: YAML errors/);
  });

  it('every object is in the credence namespace', () => {
    for (const manifest of manifests) {
      if (manifest.kind === 'Namespace') assert.equal(manifest.metadata.name, NAMESPACE);
      else
        assert.equal(
          manifest.metadata.namespace,
          NAMESPACE,
          `${manifest.file}: ${manifest.kind} ${manifest.metadata.name}`,
        );
    }
  });

  it('the gateway and every department have a Deployment, a Service, an autoscaler and a disruption budget that select their pods', () => {
    for (const service of SERVICES) {
      const deployment = named('Deployment', service);
      assert.ok(deployment, `Deployment ${service}`);
      const labels = podLabels(deployment);
      const spec = deployment.spec as { selector: { matchLabels: Record<string, string> }; replicas: number };
      assert.ok(selects(spec.selector.matchLabels, labels), `Deployment ${service} selects its own pods`);
      const svc = named('Service', service);
      assert.ok(
        svc && selects((svc.spec as { selector: Record<string, string> }).selector, labels),
        `Service ${service} selects the pods`,
      );
      const pdb = named('PodDisruptionBudget', service);
      assert.ok(
        pdb &&
          selects((pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, labels),
        `PodDisruptionBudget ${service}`,
      );
      const hpa = named('HorizontalPodAutoscaler', service);
      assert.ok(hpa, `HorizontalPodAutoscaler ${service}`);
      const hpaSpec = hpa.spec as { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
      assert.deepEqual([hpaSpec.scaleTargetRef.kind, hpaSpec.scaleTargetRef.name], ['Deployment', service]);
      assert.ok(
        hpaSpec.minReplicas >= 2 && spec.replicas >= 2,
        `${service}: at least two replicas, so one can be lost`,
      );
    }
    // No other department or service than the code has.
    assert.deepEqual(
      ofKind('Deployment')
        .map(({ metadata }) => metadata.name)
        .sort(),
      [...SERVICES].sort(),
    );
  });

  it('every container: probes on /readyz and /healthz, requests and limits, non-root, read-only root filesystem, no privilege, no service-account token', () => {
    for (const deployment of ofKind('Deployment')) {
      const where = `Deployment ${deployment.metadata.name}`;
      const pod = podSpec(deployment);
      assert.equal(pod.automountServiceAccountToken, false, `${where}: no API token`);
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp`);
      for (const container of pod.containers) {
        const at = `${where} container ${container.name}`;
        assert.equal(container.readinessProbe?.httpGet?.path, '/readyz', `${at}: readiness on /readyz`);
        assert.equal(container.livenessProbe?.httpGet?.path, '/healthz', `${at}: liveness on /healthz`);
        const http = container.ports?.find((port) => port.name === 'http');
        assert.ok(http, `${at}: a port named http`);
        assert.equal(container.readinessProbe?.httpGet?.port, 'http');
        assert.equal(container.livenessProbe?.httpGet?.port, 'http');
        for (const bound of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory'])
            assert.ok(container.resources?.[bound]?.[resource], `${at}: ${bound}.${resource}`);
        }
        assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${at}: read-only root filesystem`);
        assert.equal(container.securityContext?.allowPrivilegeEscalation, false, `${at}: no privilege escalation`);
        assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL'], `${at}: no capabilities`);
      }
    }
  });

  it('keys come from Secrets only; no signing key of the policy officers or the privacy office is in the cluster; no Secret values are committed', () => {
    assert.deepEqual(ofKind('Secret'), [], 'Secrets are created out of band (docs/deployment.md), never committed');
    const text = yamlFiles(MANIFESTS_DIR)
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    for (const name of KEYS_KEPT_OUT) assert.doesNotMatch(text, new RegExp(name), `${name} is not in the cluster`);
    assert.doesNotMatch(
      text,
      /BEGIN [A-Z ]*PRIVATE KEY|mongodb(\+srv)?:\/\/[^\s"]*@|rediss?:\/\/[^\s"]*@/,
      'no key or credential in a manifest',
    );
    for (const deployment of ofKind('Deployment')) {
      const role = deployment.metadata.name === 'gateway' ? 'gateway' : 'department';
      const env = podSpec(deployment).containers.flatMap((container) => container.env ?? []);
      for (const name of KEYS_FROM_SECRETS[role]) {
        const variable = env.find((entry) => entry.name === name);
        assert.ok(variable?.valueFrom?.secretKeyRef?.name, `${deployment.metadata.name}: ${name} from a Secret`);
      }
    }
    const gateway = named('Deployment', 'gateway');
    assert.ok(gateway);
    const gatewayEnv = podSpec(gateway).containers.flatMap((container) => container.env ?? []);
    assert.equal(
      gatewayEnv.find((entry) => entry.name === 'CREDENCE_GATEWAY_INSTANCE')?.valueFrom?.fieldRef?.fieldPath,
      'metadata.name',
      'each gateway pod writes its own access-log chain, named after the pod',
    );
    for (const deployment of ofKind('Deployment').filter(({ metadata }) => metadata.name !== 'gateway')) {
      const env = podSpec(deployment)
        .containers.flatMap((container) => container.env ?? [])
        .map(({ name }) => name);
      assert.ok(
        !env.includes('CREDENCE_ASSERTION_PRIVATE_KEY') && !env.includes('CREDENCE_ACCESS_LOG_PRIVATE_KEY'),
        `${deployment.metadata.name} holds no gateway key`,
      );
    }
  });

  it('every variable the manifests set is one the code reads', () => {
    const settings = named('ConfigMap', 'credence-settings');
    assert.ok(settings?.data);
    const names = new Set(Object.keys(settings.data));
    for (const deployment of ofKind('Deployment')) {
      for (const container of podSpec(deployment).containers)
        for (const { name } of container.env ?? []) names.add(name);
    }
    names.delete('NODE_OPTIONS');
    const unread = [...names].filter((name) => !SOURCE.includes(name));
    assert.deepEqual(unread, [], 'variables no process reads (a misspelt name is silently ignored)');
  });

  it('the gateway is configured with every department at its Service, and nothing else', () => {
    const settings = named('ConfigMap', 'credence-settings');
    const raw = settings?.data?.SUBGRAPH_URLS ?? '';
    const urls = Object.fromEntries(
      raw
        .split(',')
        .map((pair) => pair.trim())
        .filter(Boolean)
        .map((pair) => {
          const [name = '', url = ''] = pair.split('=');
          return [name, url];
        }),
    );
    assert.deepEqual(Object.keys(urls).sort(), departments.map(({ name }) => name).sort());
    for (const [name, url] of Object.entries(urls)) {
      const service = named('Service', name);
      const port = (service?.spec as { ports: { port: number }[] } | undefined)?.ports[0]?.port;
      assert.equal(
        url,
        `http://${name}.${NAMESPACE}.svc.cluster.local:${port}/graphql`,
        `${name}'s URL is its Service`,
      );
    }
  });

  it("every pod's operator listener is scrapeable by Prometheus, on its own port, and reachable from the monitoring namespace only", () => {
    const policies = ofKind('NetworkPolicy');
    for (const deployment of ofKind('Deployment')) {
      const component = podLabels(deployment)['app.kubernetes.io/component'] === 'gateway' ? 'gateway' : 'department';
      const port = OPERATOR_PORTS[component];
      const where = `Deployment ${deployment.metadata.name}`;
      const annotations =
        (deployment.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata
          .annotations ?? {};
      assert.deepEqual(
        [annotations['prometheus.io/scrape'], annotations['prometheus.io/port'], annotations['prometheus.io/path']],
        ['true', String(port), '/metrics'],
        `${where}: scrape annotations`,
      );
      const [container] = podSpec(deployment).containers;
      assert.ok(container);
      assert.equal(
        container.ports?.find(({ name }) => name === 'metrics')?.containerPort,
        port,
        `${where}: a metrics port`,
      );
      const env = new Map((container.env ?? []).map(({ name, value }) => [name, value]));
      const prefix = component === 'gateway' ? 'GATEWAY_' : '';
      assert.equal(env.get(`${prefix}METRICS_PORT`), String(port), `${where}: the listener on that port`);
      assert.equal(env.get(`${prefix}METRICS_HOST`), '0.0.0.0', `${where}: on the pod's address`);
      const allowed = policies.filter(({ spec }) => {
        const { podSelector, ingress } = spec as {
          podSelector: { matchLabels?: Record<string, string> };
          ingress?: { ports?: { port: number }[] }[];
        };
        return (
          selects(podSelector.matchLabels, podLabels(deployment)) &&
          (ingress ?? []).some((rule) => (rule.ports ?? []).some((allowedPort) => allowedPort.port === port))
        );
      });
      assert.deepEqual(
        allowed.map(({ metadata }) => metadata.name),
        ['metrics-from-monitoring'],
        `${where}: the operator port is opened by one policy`,
      );
    }
  });

  it('network: everything denied by default; departments reachable only from gateway pods, their operator port only from monitoring; only /graphql public', () => {
    const policies = ofKind('NetworkPolicy');
    const deny = policies.find(({ spec }) => JSON.stringify((spec as { podSelector: unknown }).podSelector) === '{}');
    assert.ok(deny, 'a default-deny policy over every pod');
    assert.deepEqual((deny.spec as { policyTypes: string[] }).policyTypes.sort(), ['Egress', 'Ingress']);
    assert.equal((deny.spec as { ingress?: unknown }).ingress, undefined);
    assert.equal((deny.spec as { egress?: unknown }).egress, undefined);

    const gateway = named('Deployment', 'gateway');
    assert.ok(gateway);
    const gatewayLabels = podLabels(gateway);
    for (const department of departments) {
      const deployment = named('Deployment', department.name);
      assert.ok(deployment);
      const labels = podLabels(deployment);
      const allowing = policies.filter(({ spec }) => {
        const { podSelector, ingress } = spec as {
          podSelector: { matchLabels?: Record<string, string> };
          ingress?: unknown[];
        };
        return ingress && selects(podSelector.matchLabels, labels);
      });
      assert.ok(allowing.length > 0, `${department.name}: an ingress rule exists`);
      for (const policy of allowing) {
        for (const rule of (
          policy.spec as {
            ingress: {
              from?: {
                podSelector?: { matchLabels?: Record<string, string> };
                namespaceSelector?: { matchLabels?: Record<string, string> };
                ipBlock?: unknown;
              }[];
              ports?: { port: number }[];
            }[];
          }
        ).ingress) {
          assert.ok(
            rule.from && rule.from.length > 0,
            `${department.name}: ${policy.metadata.name} names who may connect`,
          );
          const ports = (rule.ports ?? []).map(({ port }) => port);
          if (ports.length > 0 && ports.every((port) => OPERATOR_PORT_SET.has(port))) {
            // The operator listener (/metrics, /status): Prometheus's namespace and nobody else.
            for (const peer of rule.from) {
              assert.deepEqual(
                peer,
                { namespaceSelector: { matchLabels: MONITORING_NAMESPACE } },
                policy.metadata.name,
              );
            }
            continue;
          }
          assert.ok(ports.length > 0, `${policy.metadata.name}: names its ports`);
          for (const peer of rule.from) {
            assert.equal(peer.namespaceSelector, undefined, `${policy.metadata.name}: no other namespace`);
            assert.equal(peer.ipBlock, undefined, `${policy.metadata.name}: no address range`);
            assert.ok(
              selects(peer.podSelector?.matchLabels, gatewayLabels),
              `${policy.metadata.name}: only gateway pods`,
            );
          }
        }
      }
    }

    const ingresses = ofKind('Ingress');
    assert.equal(ingresses.length, 1);
    const paths = (
      ingresses[0]?.spec as {
        rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] } }[];
      }
    ).rules.flatMap((rule) => rule.http.paths);
    assert.deepEqual(
      paths.map(({ path, pathType, backend }) => [path, pathType, backend.service.name]),
      [['/graphql', 'Exact', 'gateway']],
      '/healthz, /readyz and /status are not public',
    );
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DEFAULT_SUPERGRAPH_PATH,
  disableApolloTelemetry,
  parseSubgraphUrls,
  readGatewayConfig,
} from '../gateway/config.ts';
import { supergraphSubgraphs } from '../gateway/server.ts';

describe('gateway configuration', () => {
  it('reads subgraph URL overrides', () => {
    assert.deepEqual(parseSubgraphUrls('registry=http://10.0.0.1:4001/graphql, tax=http://10.0.0.3:4003/graphql'), {
      registry: 'http://10.0.0.1:4001/graphql',
      tax: 'http://10.0.0.3:4003/graphql',
    });
    assert.deepEqual(parseSubgraphUrls(undefined), {});
  });

  it('refuses malformed overrides and numbers with a message naming the setting', () => {
    assert.throws(() => parseSubgraphUrls('registry'), /SUBGRAPH_URLS entry "registry"/);
    assert.throws(() => parseSubgraphUrls('tax=not a url'), /SUBGRAPH_URLS/);
    assert.throws(() => readGatewayConfig({ GATEWAY_PORT: 'eighty' }), /GATEWAY_PORT/);
  });

  it('has defaults for everything', () => {
    const config = readGatewayConfig({});
    assert.equal(config.port, 4000);
    assert.equal(config.supergraphPath, DEFAULT_SUPERGRAPH_PATH);
    assert.equal(config.redisNamespace, 'credence');
    assert.equal(readGatewayConfig({ CREDENCE_REDIS_NAMESPACE: 'staging' }).redisNamespace, 'staging');
  });

  it('finds every department and its URL in the shipped supergraph', () => {
    const subgraphs = supergraphSubgraphs(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
    assert.deepEqual(subgraphs.map(({ name }) => name).sort(), [
      'audit',
      'credit',
      'judicial',
      'penalties',
      'registry',
      'tax',
    ]);
    assert.ok(subgraphs.every(({ url }) => URL.canParse(url)));
  });

  it("turns off @apollo/gateway's report to Apollo's servers unless the operator set the variable", () => {
    const unset: NodeJS.ProcessEnv = {};
    disableApolloTelemetry(unset);
    assert.equal(unset.APOLLO_TELEMETRY_DISABLED, 'true');
    const chosen: NodeJS.ProcessEnv = { APOLLO_TELEMETRY_DISABLED: 'false' };
    disableApolloTelemetry(chosen);
    assert.equal(chosen.APOLLO_TELEMETRY_DISABLED, 'false');
  });
});

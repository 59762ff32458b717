/**
 * Where each department's SDL is (schema/<name>.graphql), and its parsed document: read by the
 * department's server and by settings checked against its enums, without loading the server.
 */
import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';

function subgraphSdlPath(name: string): URL {
  return new URL(`../../schema/${name}.graphql`, import.meta.url);
}

export function subgraphSdl(name: string): DocumentNode {
  return parse(readFileSync(subgraphSdlPath(name), 'utf8'));
}

/** The benchmark's reference gateways take the departments' URLs as Credence's does (SUBGRAPH_URLS). */

/** The supergraph with each named subgraph's `@join__graph` URL replaced; an unknown name is an error, not a silent miss. */
export function withSubgraphUrls(supergraph: string, urls: Readonly<Record<string, string>>): string {
  const replaced = new Set<string>();
  const result = supergraph.replace(/@join__graph\(name: "([^"]+)", url: "[^"]*"\)/g, (whole, name: string) => {
    const url = urls[name];
    if (url === undefined) return whole;
    replaced.add(name);
    return `@join__graph(name: "${name}", url: "${url}")`;
  });
  const unknown = Object.keys(urls).filter((name) => !replaced.has(name));
  if (unknown.length > 0)
    throw new Error(`SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}.`);
  return result;
}

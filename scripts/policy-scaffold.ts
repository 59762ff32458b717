/**
 * `npm run policy -- scaffold`: the command line of lib/policy/officers/scaffold.ts. Reads the new
 * department's SDL, the supergraph in force and the SDL of each department it names, and the
 * catalog; writes the SDL beside the others, the candidate supergraph, the catalog with the drafted
 * items and the department's policy file, only once all of them are computed; prints what is left
 * to decide. Walkthrough: docs/adding-a-department.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAME_PATTERN } from '../lib/policy/officers/json-schema.ts';
import { planScaffold, type SubgraphSource } from '../lib/policy/officers/scaffold.ts';
import { CommandError, UsageError, option, required, type Context } from './policy.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The file a candidate supergraph is written to: `npm run compose` writes supergraph.graphql once the department ships. */
export const CANDIDATE_SUPERGRAPH = 'supergraph.candidate.graphql';

/** The subgraphs a supergraph names, with the URLs written in it. */
function joinGraphs(supergraphSdl: string): { name: string; url: string }[] {
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map(
    ([, name = '', url = '']) => ({ name, url }),
  );
}

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new CommandError(`${what} ${path}: no such file`);
  return readFileSync(path, 'utf8');
}

export async function scaffoldCommand(ctx: Context): Promise<number> {
  const name = required(ctx.values, 'subgraph');
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !new RegExp(NAME_PATTERN).test(name))
    throw new UsageError(`"${name}" is not a subgraph name (lower-case words joined by hyphens)`);
  const sdlPath = resolve(ctx.io.cwd, required(ctx.values, 'sdl'));
  const schemaDir = resolve(ctx.io.cwd, option(ctx.values, 'schema-dir') ?? join(ROOT, 'schema'));
  const supergraphPath = resolve(
    ctx.io.cwd,
    option(ctx.values, 'supergraph') ?? ctx.io.env['SUPERGRAPH_PATH'] ?? join(schemaDir, 'supergraph.graphql'),
  );
  const show = (path: string): string => relative(ctx.io.cwd, path) || path;

  const currentSupergraphSdl = readText(supergraphPath, 'supergraph');
  const graphs = joinGraphs(currentSupergraphSdl);
  const existing: SubgraphSource[] = graphs
    .filter((graph) => graph.name !== name)
    .map((graph) => {
      const file = join(schemaDir, `${graph.name}.graphql`);
      return { ...graph, file: show(file), sdl: readText(file, `the SDL of ${graph.name}, named by the supergraph:`) };
    });
  const sdl = readText(sdlPath, 'SDL');
  const url =
    option(ctx.values, 'url') ??
    `http://127.0.0.1:${4001 + graphs.filter((graph) => graph.name !== name).length}/graphql`;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url ${url} is not a URL`);
  }
  const sdlTarget = join(schemaDir, `${name}.graphql`);
  if (existsSync(sdlTarget) && resolve(sdlTarget) !== sdlPath && readFileSync(sdlTarget, 'utf8') !== sdl) {
    throw new CommandError(
      `${show(sdlTarget)} exists and differs from ${show(sdlPath)}: edit it in place, or remove it to scaffold again`,
    );
  }
  const policyPath = join(ctx.dir, `${name}.yaml`);
  if (existsSync(policyPath))
    throw new CommandError(`${show(policyPath)} exists: the department is scaffolded already`);
  const catalogPath = join(schemaDir, 'catalog.yaml');

  const planned = planScaffold({
    existing,
    added: { name, url, file: show(sdlPath), sdl },
    currentSupergraphSdl,
    catalogName: show(catalogPath),
    catalogText: readText(catalogPath, 'catalog'),
    policyFileName: show(policyPath),
  });
  if (!planned.ok) {
    for (const error of planned.errors) ctx.io.stderr(error);
    ctx.io.stderr(
      `\n${planned.errors.length} error(s): ${name} does not compose with the departments of ${show(supergraphPath)}; nothing written`,
    );
    return 1;
  }
  const { plan } = planned;
  const candidatePath = join(schemaDir, CANDIDATE_SUPERGRAPH);
  writeFileSync(sdlTarget, sdl);
  writeFileSync(candidatePath, plan.supergraphSdl);
  writeFileSync(catalogPath, plan.catalogText);
  writeFileSync(policyPath, plan.policyText);

  ctx.io.stdout(
    [
      `${name} composes with ${existing.map((graph) => graph.name).join(', ') || 'no other department'}.`,
      '',
      'Wrote:',
      `  ${show(sdlTarget)}  the department's SDL`,
      `  ${show(candidatePath)}  the candidate supergraph`,
      `  ${show(catalogPath)}  ${plan.items.length} drafted item(s): ${plan.items.map((item) => item.code).join(', ')}`,
      `  ${show(policyPath)}  field sets and rule stubs; nothing allowed (deny by default)`,
      '',
      `Left to decide (${plan.leftToDecide.length}); no gateway or department starts while a TODO remains:`,
      ...plan.leftToDecide.map((line) => `  ${line}`),
      '',
      'Then:',
      `  CREDENCE_CATALOG_PATH=${show(catalogPath)} npm run policy -- validate --supergraph ${show(candidatePath)}`,
      `  write subgraphs/${name}/ and add it to subgraphs/departments.ts, then npm run compose (docs/adding-a-department.md)`,
    ].join('\n'),
  );
  return 0;
}

/**
 * The richer schema (test/fixtures/rich/) beside Credence's departments: the supergraph composing
 * them all, and a catalog covering its fields (drafted as `npm run policy -- scaffold` drafts, its
 * TODOs decided), written to a folder of the test's own. `startFederation` runs the departments
 * with `extraDepartments`; CREDENCE_CATALOG_PATH must name the catalog before anything reads it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { buildApiSchema } from '../../lib/policy/decision/api-schema.ts';
import { DEFAULT_CATALOG_PATH } from '../../lib/policy/reference/catalog.ts';
import { DEFAULT_SUPERGRAPH_PATH } from '../../lib/policy/releases/process-policy.ts';
import { catalogItemsYaml, draftCatalogItems } from '../../lib/policy/officers/scaffold.ts';
import { parseCatalog } from '../../lib/policy/reference/catalog.ts';
import { departments } from '../../subgraphs/departments.ts';
import { subgraphSdl } from '../../subgraphs/runtime/sdl.ts';
import type { AnyDepartment } from '../../subgraphs/runtime/department.ts';
import { RICH_DEPARTMENTS } from '../fixtures/rich/index.ts';

export interface RichSchemaFiles {
  supergraphPath: string;
  catalogPath: string;
  departments: readonly AnyDepartment[];
}

/** The supergraph of the shipped departments and `extra` (port 0 URLs: the federation sets the real ones). */
export function composeWith(extra: readonly AnyDepartment[]): string {
  const result = composeServices(
    [...departments, ...extra].map((department) => ({
      name: department.name,
      url: `http://127.0.0.1:1/${department.name}`,
      typeDefs: department.sdl ?? subgraphSdl(department.name),
    })),
  );
  if (result.errors)
    throw new Error(`the rich schema does not compose: ${result.errors.map((error) => error.message).join('; ')}`);
  return result.supergraphSdl;
}

/** The shipped catalog with an item per type of `extra`, decided: SHARED, REGISTRATION, a test's legal basis. */
export function catalogWith(supergraphSdl: string, department: string): string {
  const shipped = readFileSync(DEFAULT_CATALOG_PATH, 'utf8');
  const parsed = parseCatalog('catalog.yaml', shipped);
  if (!parsed.ok) throw new Error('the shipped catalog is invalid');
  const items = draftCatalogItems({
    schema: buildApiSchema(supergraphSdl),
    previous: buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8')),
    covered: new Set(parsed.catalog.items.flatMap((item) => item.fields)),
    department,
    takenCodes: new Set(parsed.catalog.items.map((item) => item.code)),
  });
  return `${shipped.trimEnd()}\n${catalogItemsYaml(items, department)
    .replaceAll('category: TODO', 'category: REGISTRATION')
    .replaceAll('classification: TODO', 'classification: SHARED')
    .replaceAll('legalBasis: TODO', 'legalBasis: "Test schema: no legal basis needed"')}`;
}

export function writeRichSchema(dir: string): RichSchemaFiles {
  const supergraphSdl = composeWith(RICH_DEPARTMENTS);
  const supergraphPath = join(dir, 'supergraph.rich.graphql');
  const catalogPath = join(dir, 'catalog.rich.yaml');
  writeFileSync(supergraphPath, supergraphSdl);
  writeFileSync(catalogPath, catalogWith(supergraphSdl, 'rich-test'));
  return { supergraphPath, catalogPath, departments: RICH_DEPARTMENTS };
}

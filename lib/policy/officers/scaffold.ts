/**
 * Onboarding a department (`npm run policy -- scaffold`): its SDL composed with the departments
 * already in the supergraph into a candidate supergraph, composition errors pinned to their line;
 * a catalog item drafted for every field it adds (R1), with the legal basis, classification and
 * category left `TODO` for an officer; a policy file with one field set per item and rule stubs
 * that allow nothing (deny by default); and the list of what is left to decide. Pure: the command
 * line reads and writes the files.
 */
import { composeServices } from '@apollo/composition';
import {
  getLocation,
  getNamedType,
  GraphQLError,
  isCompositeType,
  parse,
  Source,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { buildApiSchema } from '../decision/api-schema.ts';
import { CATALOG_CATEGORIES, CLASSIFICATIONS } from '../reference/catalog.ts';
import { catalogueableFields } from '../reference/catalog-coverage.ts';
import { undecidedCatalogProblems } from '../reference/undecided.ts';
import { parseYamlFile } from '../loading/yaml-source.ts';
import { formatProblem } from '../loading/problems.ts';

/** A subgraph's SDL as read from its file (`file` is how errors name it). */
export interface SubgraphSource {
  name: string;
  url: string;
  file: string;
  sdl: string;
}

export type CandidateResult =
  | { ok: true; supergraphSdl: string }
  /** `file:line:column: message` for each error, as editors and terminals turn into links. */
  | { ok: false; errors: string[] };

function place(source: Source, position: number): string {
  const { line, column } = getLocation(source, position);
  return `${source.name}:${line}:${column}`;
}

function located(error: GraphQLError, fallback: string): string[] {
  const places = (error.nodes ?? []).flatMap((node) => (node.loc ? [place(node.loc.source, node.loc.start)] : []));
  if (places.length === 0 && error.source && error.positions?.[0] !== undefined)
    places.push(place(error.source, error.positions[0]));
  return places.length > 0 ? places.map((where) => `${where}: ${error.message}`) : [`${fallback}: ${error.message}`];
}

/**
 * The supergraph of `existing` with `added` composed in (replacing a subgraph of the same name).
 * Syntax errors and composition errors come back with the line of the SDL they point at.
 */
export function composeCandidate(existing: readonly SubgraphSource[], added: SubgraphSource): CandidateResult {
  const sources = [...existing.filter((subgraph) => subgraph.name !== added.name), added];
  const documents: { name: string; url: string; typeDefs: DocumentNode }[] = [];
  const errors: string[] = [];
  for (const subgraph of sources) {
    try {
      documents.push({
        name: subgraph.name,
        url: subgraph.url,
        typeDefs: parse(new Source(subgraph.sdl, subgraph.file)),
      });
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      errors.push(...located(error, subgraph.file));
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const result = composeServices(documents);
  if (result.errors) return { ok: false, errors: result.errors.flatMap((error) => located(error, added.file)) };
  return { ok: true, supergraphSdl: result.supergraphSdl };
}

/** One drafted catalog item, with the field set of the same fields that rules will name. */
export interface DraftItem {
  code: string;
  name: string;
  department: string;
  fields: string[];
  /** `<department>-<group>`: the field set the drafted policy file defines for these fields. */
  fieldSet: string;
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

/**
 * Catalog items for the fields of `schema` no item covers yet, grouped by type: the fields of a
 * type the department brings are one item; a field it adds to a type that already existed (the
 * shared `Subject`, `Query`) joins the item of the new type it returns (an interface or union
 * included), so that "the inspections of a subject" and the inspections are decided together;
 * a field returning nothing new joins an item of its own type.
 */
export function draftCatalogItems(options: {
  schema: GraphQLSchema;
  /** The API schema before the department (absent: every type is new). */
  previous?: GraphQLSchema;
  /** Fields some catalog item already covers. */
  covered: ReadonlySet<string>;
  department: string;
  /** Item codes already in use. */
  takenCodes?: ReadonlySet<string>;
}): DraftItem[] {
  const { schema, previous, department } = options;
  const isNew = (typeName: string): boolean => !previous?.getType(typeName);
  const groups = new Map<string, string[]>();
  for (const coordinate of catalogueableFields(schema)) {
    if (options.covered.has(coordinate)) continue;
    const [typeName = '', fieldName = ''] = coordinate.split('.');
    const type = schema.getType(typeName);
    const field = type && 'getFields' in type ? type.getFields()[fieldName] : undefined;
    const returned = field ? getNamedType(field.type) : undefined;
    const group =
      !isNew(typeName) && returned && isCompositeType(returned) && isNew(returned.name) ? returned.name : typeName;
    groups.set(group, [...(groups.get(group) ?? []), coordinate]);
  }
  const taken = new Set(options.takenCodes ?? []);
  const drafts: DraftItem[] = [];
  for (const [group, fields] of groups) {
    const own = words(department);
    const named = words(group);
    // EcologyFinding of department ecology: ECOLOGY-FINDING, not ECOLOGY-ECOLOGY-FINDING.
    const parts = [
      ...own,
      ...(named[0]?.toLowerCase() === own.at(-1)?.toLowerCase() && named.length > 1 ? named.slice(1) : named),
    ];
    let code = parts.join('-').toUpperCase();
    for (let n = 2; taken.has(code); n++) code = `${parts.join('-').toUpperCase()}-${n}`;
    taken.add(code);
    const description = schema.getType(group)?.description?.split('\n')[0]?.trim();
    drafts.push({
      code,
      name: description || `${group} (${department})`,
      department,
      fields,
      fieldSet: code.toLowerCase(),
    });
  }
  return drafts;
}

/** The drafted items as YAML to append under the catalog's `items:`. */
export function catalogItemsYaml(items: readonly DraftItem[], department: string): string {
  const lines = [
    '',
    `  # ── ${department} (drafted by npm run policy -- scaffold) ${'─'.repeat(Math.max(3, 70 - department.length))}`,
    '  # Decide every TODO: no process starts while one remains. category: one of',
    `  # ${CATALOG_CATEGORIES.join(' | ')}; classification: ${CLASSIFICATIONS.join(' | ')}.`,
  ];
  for (const item of items) {
    lines.push(
      `  - code: ${item.code}`,
      `    name: ${JSON.stringify(item.name)}`,
      '    category: TODO',
      '    classification: TODO',
      `    department: ${item.department}`,
      '    legalBasis: TODO',
      '    disclosure: none',
      `    fields: [${item.fields.join(', ')}]`,
      '',
    );
  }
  return lines.join('\n');
}

/** The department's policy file: its field sets, and rule stubs that allow nothing until written. */
export function policyFileYaml(items: readonly DraftItem[], department: string): string {
  const lines = [
    '# yaml-language-server: $schema=./policy.schema.json',
    '#',
    `# The ${department} department's fields, drafted by npm run policy -- scaffold. Nothing here`,
    '# allows anything: until a rule names a field set below, every consumer is denied its fields',
    '# (deny by default). Write each rule from a stub at the end, for the consumers and purposes the',
    '# legal basis allows, then run npm run policy -- validate and test.',
    '',
    'fieldSets:',
  ];
  for (const item of items) {
    lines.push(
      `  # ${item.code}: ${item.name}`,
      `  ${item.fieldSet}:`,
      ...item.fields.map((field) => `    - ${field}`),
    );
  }
  lines.push('', '# Rule stubs (deny by default: uncomment and complete one to allow its fields):', '# rules:');
  for (const item of items) {
    lines.push(
      `#   - id: <consumer>-sees-${item.fieldSet}`,
      `#     description: <who sees ${item.code}, for which purpose, on which legal basis>`,
      '#     consumers: [<consumer or group>]',
      '#     purposes: [<PURPOSE>]',
      `#     allow: [set:${item.fieldSet}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface ScaffoldPlan {
  supergraphSdl: string;
  items: DraftItem[];
  /** The catalog's text with the drafted items appended. */
  catalogText: string;
  policyText: string;
  /** What an officer has still to decide, each line pointing at a file and line. */
  leftToDecide: string[];
}

/** Everything `scaffold` writes, computed before anything is written (nothing half-written). */
export function planScaffold(input: {
  existing: readonly SubgraphSource[];
  added: SubgraphSource;
  /** The supergraph in force (the department's fields are what the candidate adds to it). */
  currentSupergraphSdl: string;
  catalogName: string;
  catalogText: string;
  policyFileName: string;
}): { ok: true; plan: ScaffoldPlan } | { ok: false; errors: string[] } {
  const candidate = composeCandidate(input.existing, input.added);
  if (!candidate.ok) return candidate;
  const { file: catalogFile, problems } = parseYamlFile(input.catalogName, input.catalogText);
  if (problems.length > 0) return { ok: false, errors: problems.map(formatProblem) };
  const rawItems =
    (catalogFile.data as { items?: { code?: unknown; department?: unknown; fields?: unknown }[] }).items ?? [];
  if (rawItems.some((item) => item.department === input.added.name)) {
    return {
      ok: false,
      errors: [
        `${input.catalogName}: the catalog already has items of department ${input.added.name}; remove them to draft again`,
      ],
    };
  }
  const covered = new Set(
    rawItems.flatMap((item) =>
      Array.isArray(item.fields) ? item.fields.filter((field): field is string => typeof field === 'string') : [],
    ),
  );
  const takenCodes = new Set(rawItems.flatMap((item) => (typeof item.code === 'string' ? [item.code] : [])));
  const schema = buildApiSchema(candidate.supergraphSdl);
  const items = draftCatalogItems({
    schema,
    previous: buildApiSchema(input.currentSupergraphSdl),
    covered,
    department: input.added.name,
    takenCodes,
  });
  if (items.length === 0)
    return {
      ok: false,
      errors: [`${input.added.file}: the subgraph adds no field the catalog does not already cover; nothing to draft`],
    };
  const catalogText = `${input.catalogText.replace(/\n*$/, '\n')}${catalogItemsYaml(items, input.added.name)}`;
  const undecided = undecidedCatalogProblems(parseYamlFile(input.catalogName, catalogText).file).map(
    (problem) => `${problem.file}:${problem.line}:${problem.column}: ${problem.message.split(':')[0] ?? ''}`,
  );
  const leftToDecide = [
    ...undecided,
    ...items.map(
      (item) =>
        `${input.policyFileName}: no consumer sees set:${item.fieldSet} yet (${item.fields.length} field${item.fields.length === 1 ? '' : 's'}); write its rule from the stub, or leave it denied`,
    ),
  ];
  return {
    ok: true,
    plan: {
      supergraphSdl: candidate.supergraphSdl,
      items,
      catalogText,
      policyText: policyFileYaml(items, input.added.name),
      leftToDecide,
    },
  };
}

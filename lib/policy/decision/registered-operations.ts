/**
 * Registered (persisted) operations per consumer: `policies/operations/<consumer>.json`, in the
 * format of Apollo's persisted query manifest (what `@apollo/generate-persisted-query-manifest`
 * writes for a frontend build), so a frontend team can hand in its manifest as it is. An
 * operation is known by the SHA-256 of its exact text, the hash clients send in
 * `extensions.persistedQuery.sha256Hash` (Apollo's APQ format).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
} from 'graphql';
import { documentHash } from '../../graphql/document-hash.ts';

export const OPERATIONS_FOLDER = 'operations';

export interface RegisteredOperation {
  /** SHA-256 (hex) of `body`. */
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface OperationManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: RegisteredOperation[];
}

export function operationHash(body: string): string {
  // The same hash the gateway keys the operation on when it arrives (lib/graphql/document-hash.ts).
  return documentHash(body);
}

function isManifest(value: unknown): value is OperationManifest {
  const manifest = value as Partial<OperationManifest> | null;
  return (
    manifest?.format === 'apollo-persisted-query-manifest' &&
    Array.isArray(manifest.operations) &&
    manifest.operations.every((operation) => typeof operation?.body === 'string')
  );
}

/** Reads one manifest; the ids are recomputed from the bodies, so a hand-edited id cannot point at another text. */
export async function readManifest(path: string): Promise<OperationManifest> {
  const value: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!isManifest(value))
    throw new Error(`${path} is not an Apollo persisted query manifest (format "apollo-persisted-query-manifest")`);
  return {
    ...value,
    operations: value.operations.map((operation) => ({ ...operation, id: operationHash(operation.body) })),
  };
}

/** Every consumer's registered operations: consumer id -> (hash -> body). */
export async function readRegisteredOperations(policiesDir: string): Promise<Map<string, Map<string, string>>> {
  const dir = join(policiesDir, OPERATIONS_FOLDER);
  const registered = new Map<string, Map<string, string>>();
  if (!existsSync(dir)) return registered;
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.json')).sort()) {
    const manifest = await readManifest(join(dir, file));
    registered.set(
      file.slice(0, -'.json'.length),
      new Map(manifest.operations.map((operation) => [operation.id, operation.body])),
    );
  }
  return registered;
}

function fragmentsUsed(
  definition: DefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  into = new Map<string, FragmentDefinitionNode>(),
): Map<string, FragmentDefinitionNode> {
  visit(definition, {
    FragmentSpread: (spread) => {
      const fragment = fragments.get(spread.name.value);
      if (fragment && !into.has(spread.name.value)) {
        into.set(spread.name.value, fragment);
        fragmentsUsed(fragment, fragments, into);
      }
    },
  });
  return into;
}

/**
 * The operations of a .graphql file, each as its own registered text: the operation and the
 * fragments it uses, printed by graphql-js (the text a client must send, or whose hash it sends).
 */
export function operationsOfDocument(text: string): RegisteredOperation[] {
  const document: DocumentNode = parse(text);
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  return document.definitions.flatMap((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION) return [];
    if (!definition.name) throw new Error('every operation to register needs a name');
    const used = [...fragmentsUsed(definition, fragments).values()].sort((a, b) =>
      a.name.value.localeCompare(b.name.value),
    );
    const body = print({ kind: Kind.DOCUMENT, definitions: [definition, ...used] });
    return [{ id: operationHash(body), name: definition.name.value, type: definition.operation, body }];
  });
}

/** Adds operations to a consumer's manifest (an operation already registered stays once); returns the manifest written. */
export async function registerOperations(
  policiesDir: string,
  consumer: string,
  operations: readonly RegisteredOperation[],
): Promise<OperationManifest> {
  const dir = join(policiesDir, OPERATIONS_FOLDER);
  const path = join(dir, `${consumer}.json`);
  const manifest: OperationManifest = existsSync(path)
    ? await readManifest(path)
    : { format: 'apollo-persisted-query-manifest', version: 1, operations: [] };
  const known = new Set(manifest.operations.map((operation) => operation.id));
  for (const operation of operations) if (!known.has(operation.id)) manifest.operations.push(operation);
  await mkdir(dir, { recursive: true });
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

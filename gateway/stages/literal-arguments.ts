/**
 * Stage: literal arguments (lib/graphql/literal-arguments.ts). An operation that writes its
 * scalar arguments into its text, as generated partner queries do, is executed as the shape it
 * shares with every request that differs only in those values, the values passed as variables.
 * Each shape is kept once (interned by its printed text), so the decision, the rewrites, the
 * query plan and the departments' document caches, all keyed on the document, are reused across
 * subjects instead of being made afresh per request.
 *
 * On the way out there is nothing to undo: the answer's keys and paths are the operation's own.
 * The access log still records the operation's hash as received, and reads the subjects it named
 * from the shape and its variables.
 */
import { type DocumentNode, type GraphQLSchema } from 'graphql';
import { printedDocumentHash } from '../../lib/graphql/document-hash.ts';
import { hoistLiterals } from '../../lib/graphql/literal-arguments.ts';
import { LruCache, PARSED_BYTES_PER_CHARACTER } from '../../lib/lru-cache.ts';
import { DOCUMENT_CACHE_BYTES } from './policy-decision.ts';
import { oncePerDocument, type Stage } from './stage.ts';

interface Shape {
  document: DocumentNode;
  values: Record<string, unknown>;
}

/** Shapes kept (each one document, shared by every operation of that shape). */
const MAX_SHAPES = 2000;

export function literalArgumentsStage(): Stage {
  // Interned by hash, so that one shape is one document object whatever text it came from.
  const shapes = new LruCache<DocumentNode>({ maxEntries: MAX_SHAPES, maxBytes: DOCUMENT_CACHE_BYTES });
  const perSchema = new WeakMap<GraphQLSchema, (document: DocumentNode) => Shape | null>();
  const shapeFinder = (schema: GraphQLSchema): ((document: DocumentNode) => Shape | null) =>
    oncePerDocument((document) => {
      const hoisted = hoistLiterals(schema, document);
      if (!hoisted) return null;
      // A shape keeps the parsed text it was first seen in (its nodes' locations): counted as such.
      const bytes = (document.loc?.source.body.length ?? 0) * PARSED_BYTES_PER_CHARACTER;
      const shape = shapes.get(printedDocumentHash(hoisted.document), () => hoisted.document, bytes);
      return { document: shape, values: hoisted.values };
    });
  return {
    name: 'literal arguments',
    prepare(execution) {
      const { document, apiSchema } = execution;
      if (!document) return;
      let shapeOf = perSchema.get(apiSchema);
      if (!shapeOf) {
        shapeOf = shapeFinder(apiSchema);
        perSchema.set(apiSchema, shapeOf);
      }
      const shape = shapeOf(document);
      if (!shape) return;
      execution.document = shape.document;
      execution.variables = { ...execution.variables, ...shape.values };
    },
  };
}

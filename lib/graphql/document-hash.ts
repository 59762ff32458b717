/**
 * The hash of an operation's text, as Apollo Server computes its `queryHash` (SHA-256, hex): the
 * gateway's plan cache, its decision caches and the access log's operation hash all key on it, so
 * it is computed in one place.
 */
import { createHash } from 'node:crypto';
import { print, type DocumentNode } from 'graphql';

export function documentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const printedHashes = new WeakMap<DocumentNode, string>();

/** The hash of a document the gateway built, printed once per document object. */
export function printedDocumentHash(document: DocumentNode): string {
  let hash = printedHashes.get(document);
  if (hash === undefined) {
    hash = documentHash(print(document));
    printedHashes.set(document, hash);
  }
  return hash;
}

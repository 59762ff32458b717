/** The demo API keys published in `policies/demo-keys.md` (local use only), by consumer id. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readDemoKeys(policiesDir: string): Map<string, string> {
  const text = readFileSync(join(policiesDir, 'demo-keys.md'), 'utf8');
  const keys = new Map<string, string>();
  // Rows of the table: | consumer | key id | `key` |; the newest key of a consumer wins.
  for (const [, consumer = '', key = ''] of text.matchAll(
    /^\|\s*([a-z][a-z0-9-]*)\s*\|[^|]*\|\s*`(cred_[A-Za-z0-9_-]+)`\s*\|$/gm,
  )) {
    keys.set(consumer, key);
  }
  return keys;
}

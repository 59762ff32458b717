import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { composeSupergraph, SUPERGRAPH_PATH } from '../schema/compose.ts';

it('the checked-in supergraph is what the department SDL files compose to (run `npm run compose` after editing them)', () => {
  assert.equal(readFileSync(SUPERGRAPH_PATH, 'utf8'), composeSupergraph());
});

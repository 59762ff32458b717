// Runs after `npm install`. Plain JavaScript on purpose: it must give a clear message even on a
// Node version too old to run the project's TypeScript.
//
// graphql-shield 7.6.5 (its last release) uses `util.isUndefined`, which Node 23 removed: its ESM
// build fails to load and its CJS `chain()` and `race()` throw at run time. This replaces those
// uses with a plain `=== undefined` check in node_modules. It is idempotent, and fails loudly if
// a different graphql-shield build no longer matches, so the fix is never silently skipped.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`Credence needs Node.js 22.18 or newer (found ${process.version}); see the README.`);
  process.exit(1);
}

const MARKER = '/* credence: util.isUndefined removed in Node 23 */';
const PATCHES = [
  {
    file: 'esm/rules.js',
    from: "import { isUndefined } from 'util';",
    to: `const isUndefined = (value) => value === undefined; ${MARKER}`,
  },
  {
    file: 'cjs/rules.js',
    from: '(0, util_1.isUndefined)(rule)',
    to: `(rule === undefined ${MARKER})`,
  },
];

const require = createRequire(import.meta.url);
const shieldRoot = dirname(require.resolve('graphql-shield/package.json'));
for (const { file, from, to } of PATCHES) {
  const path = join(shieldRoot, file);
  const source = readFileSync(path, 'utf8');
  if (source.includes(from)) {
    writeFileSync(path, source.replaceAll(from, to));
    console.log(`patched graphql-shield ${file} for Node 23+`);
  } else if (!source.includes(MARKER)) {
    console.error(`graphql-shield ${file} does not contain the expected code; update scripts/postinstall.mjs.`);
    process.exit(1);
  }
}

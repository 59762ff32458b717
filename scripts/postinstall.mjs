// Runs after `npm install`. Plain JavaScript on purpose: it runs on whatever Node the machine has,
// including one too old to run the project's TypeScript.
//
// 1. Node 22 for the npm scripts. The project runs TypeScript directly (Node 22.18+ strips types).
//    On an older Node (Debian and Ubuntu ship 18 or 20), this fetches Node 22 from the npm
//    registry's Node binaries, as .ci/run does, into the shared cache, and links it as
//    node_modules/.bin/node. npm puts node_modules/.bin first on the PATH of every script, so
//    `npm start`, `npm test` and `npm run …` run on Node 22 while npm itself runs on the machine's
//    Node. On a Node new enough, nothing is fetched and an earlier link is removed (so that CI's
//    run on Node 24 runs on 24). If the fetch fails, node_modules is removed: no install that
//    cannot run is left behind.
// 2. graphql-shield 7.6.5 (its last release) uses `util.isUndefined`, which Node 23 removed: its
//    ESM build fails to load and its CJS `chain()` and `race()` throw at run time. This replaces
//    those uses with a plain `=== undefined` check in node_modules. It is idempotent, and fails
//    loudly if a different graphql-shield build no longer matches, so the fix is never skipped.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MINIMUM = [22, 18];
const FETCHED_MAJOR = 22;

/** True when a version string such as "20.20.2" is at least 22.18. */
function isNewEnough(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
}

function cacheDirectory() {
  return process.env.CREDENCE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'credence');
}

function versionOf(nodeBinary) {
  try {
    return execFileSync(nodeBinary, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** The npm registry's package of Node binaries for this machine (as `node` on npm uses them). */
function binaryPackage() {
  const platform = { linux: 'linux', darwin: 'darwin' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!platform || !arch)
    throw new Error(`no Node binaries on the npm registry fit ${process.platform}-${process.arch}`);
  return `node-${platform}-${arch}@${FETCHED_MAJOR}`;
}

/** Fetches Node 22 into the cache once (renamed into place whole, so a concurrent install never sees half of it). */
function ensureCachedNode(npmNode) {
  const directory = join(cacheDirectory(), `node-${FETCHED_MAJOR}`);
  const binary = join(directory, 'bin', 'node');
  const cached = existsSync(binary) ? versionOf(binary) : undefined;
  if (cached && isNewEnough(cached)) return binary;
  const spec = binaryPackage();
  console.log(
    `credence: fetching Node ${FETCHED_MAJOR} from the npm registry (${spec}, about 30 MB) into ${directory}, once`,
  );
  mkdirSync(cacheDirectory(), { recursive: true });
  const scratch = mkdtempSync(join(cacheDirectory(), `.node-${FETCHED_MAJOR}-`));
  try {
    const npmCli = process.env.npm_execpath;
    const pack = npmCli ? [npmNode, [npmCli, 'pack', '--silent', spec]] : ['npm', ['pack', '--silent', spec]];
    const tarball = execFileSync(pack[0], pack[1], {
      cwd: scratch,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .pop();
    const unpacked = join(scratch, 'node');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(scratch, tarball), '-C', unpacked, '--strip-components=1'], { stdio: 'inherit' });
    const version = versionOf(join(unpacked, 'bin', 'node'));
    if (!version || !isNewEnough(version))
      throw new Error(`the fetched Node does not run here (version ${version ?? 'unknown'})`);
    rmSync(directory, { recursive: true, force: true });
    renameSync(unpacked, directory);
    console.log(`credence: Node ${version} is in ${directory}`);
    return binary;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** node_modules/.bin/node when this script made it (a link into the cache), else undefined. */
function ourLink(link) {
  try {
    return lstatSync(link).isSymbolicLink() && readlinkSync(link).startsWith(cacheDirectory()) ? link : undefined;
  } catch {
    return undefined;
  }
}

function provideNode() {
  // The Node running npm (npm sets npm_node_execpath), not the one running this script: after an
  // earlier install, `node` here may already be the linked Node 22.
  const npmNode = process.env.npm_node_execpath ?? process.execPath;
  const machineVersion = versionOf(npmNode) ?? process.versions.node;
  const link = join(ROOT, 'node_modules', '.bin', 'node');
  if (isNewEnough(machineVersion)) {
    if (ourLink(link)) unlinkSync(link);
    return;
  }
  try {
    const binary = ensureCachedNode(npmNode);
    mkdirSync(dirname(link), { recursive: true });
    if (existsSync(link) || ourLink(link)) unlinkSync(link);
    symlinkSync(binary, link);
    console.log(
      `credence: this machine's Node is ${machineVersion}; npm scripts run on Node ${versionOf(binary)} (node_modules/.bin/node)`,
    );
  } catch (error) {
    console.error(
      `\nCredence needs Node.js ${MINIMUM.join('.')} or newer (this machine has ${machineVersion}), and fetching` +
        ` Node ${FETCHED_MAJOR} failed: ${error.message}\nInstall Node 22 (https://nodejs.org/en/download, or nvm install 22),` +
        ' then run `npm install` again. node_modules has been removed, so nothing half-installed is left.',
    );
    rmSync(join(ROOT, 'node_modules'), { recursive: true, force: true });
    process.exit(1);
  }
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

function patchGraphqlShield() {
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
}

provideNode();
patchGraphqlShield();

/**
 * `npm run schema -- <command>`: the schema as frontend teams and schema authors need it.
 *
 *   sdl --consumer <id> [--purpose <P>]   the SDL that consumer sees under that purpose, with descriptions
 *   check <git-ref>                       breaking, dangerous and safe changes since that ref's
 *                                         supergraph, and the consumers whose registered operations break
 *
 * A thin shell: the library (lib/schema/) decides; this file reads files and prints. Its settings
 * (POLICIES_DIR, SUPERGRAPH_PATH) come through the tools' configuration module (scripts/config.ts).
 * Failures are messages on stderr with exit code 1, not GraphQL answers: UNKNOWN_CONSUMER and
 * SCHEMA_REF_UNAVAILABLE are this command's own words (no gateway answers them, so they are not in
 * the error registry); a purpose the consumer may not use is named with the gateway's code for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { loadPolicy } from '../lib/policy/loading/load-policy.ts';
import { OPERATIONS_FOLDER, readManifest } from '../lib/policy/decision/registered-operations.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import { ErrorCode } from '../lib/error-registry.ts';
import { consumerSdl } from '../lib/schema/consumer-schema.ts';
import { checkSchemas, formatSchemaCheck, supergraphAtRef } from '../lib/schema/schema-check.ts';
import { policyCommandEnvironment, readToolSettings } from './config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

const USAGE = `usage: npm run schema -- <command> [options]

  sdl --consumer <id> [--purpose <PURPOSE>]   the SDL the consumer sees (default: its default purpose)
  check <git-ref>                             changes since that ref's supergraph; exit 1 when a consumer's
                                              registered persisted operation would break

common: --dir <policies folder> (default: $POLICIES_DIR or policies), --supergraph <file>
        (default: $SUPERGRAPH_PATH or schema/supergraph.graphql)`;

interface Options {
  dir: string;
  supergraphPath: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

const text = (values: Options['values'], name: string): string | undefined =>
  typeof values[name] === 'string' ? values[name] : undefined;

async function sdlCommand(io: Io, options: Options): Promise<number> {
  const consumerId = text(options.values, 'consumer');
  if (!consumerId) {
    io.stderr(`--consumer is required\n\n${USAGE}`);
    return 2;
  }
  const schema = buildApiSchema(readFileSync(options.supergraphPath, 'utf8'));
  const loaded = await loadPolicy(options.dir, schema);
  if (!loaded.ok) {
    for (const problem of loaded.errors) io.stderr(formatProblem(problem));
    io.stderr('the policy is not valid: run `npm run policy -- validate`');
    return 1;
  }
  const consumer = loaded.policy.consumers.get(consumerId);
  if (!consumer) {
    io.stderr(
      `UNKNOWN_CONSUMER: no consumer "${consumerId}" in the policy; known: ${[...loaded.policy.consumers.keys()].join(', ')}`,
    );
    return 1;
  }
  const purpose = text(options.values, 'purpose') ?? consumer.defaultPurpose;
  const view = purpose ? loaded.policy.view(consumerId, purpose) : undefined;
  if (!purpose || !view) {
    io.stderr(
      `${ErrorCode.PURPOSE_NOT_ALLOWED}: ${consumerId} may use ${consumer.purposes.join(', ')}${purpose ? `, not ${purpose}` : '; pass --purpose'}`,
    );
    return 1;
  }
  io.stdout(`# The schema ${consumerId} sees under ${purpose} (policy ${loaded.policy.version}).\n`);
  io.stdout(consumerSdl(schema, view));
  return 0;
}

/** Each consumer's registered operations, by operation name. */
async function registeredOperations(dir: string): Promise<Map<string, Map<string, string>>> {
  const folder = join(dir, OPERATIONS_FOLDER);
  const found = new Map<string, Map<string, string>>();
  if (!existsSync(folder)) return found;
  for (const file of (await readdir(folder)).filter((name) => name.endsWith('.json')).sort()) {
    const manifest = await readManifest(join(folder, file));
    found.set(
      file.slice(0, -'.json'.length),
      new Map(manifest.operations.map((operation) => [operation.name || operation.id, operation.body])),
    );
  }
  return found;
}

async function checkCommand(io: Io, options: Options): Promise<number> {
  const [ref] = options.positionals;
  if (!ref) {
    io.stderr(`a git ref is required\n\n${USAGE}`);
    return 2;
  }
  let before;
  try {
    before = buildApiSchema(supergraphAtRef(ref, { cwd: ROOT }));
  } catch (error) {
    io.stderr(`SCHEMA_REF_UNAVAILABLE: ${(error as Error).message}`);
    return 1;
  }
  const after = buildApiSchema(readFileSync(options.supergraphPath, 'utf8'));
  const result = checkSchemas(before, after, await registeredOperations(options.dir));
  io.stdout(
    formatSchemaCheck(result, {
      before: ref,
      after: relative(io.cwd, options.supergraphPath) || options.supergraphPath,
    }),
  );
  return result.broken.length > 0 ? 1 : 0;
}

const COMMANDS: Record<string, (io: Io, options: Options) => Promise<number>> = {
  sdl: sdlCommand,
  check: checkCommand,
};

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        consumer: { type: 'string' },
        purpose: { type: 'string' },
        dir: { type: 'string' },
        supergraph: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [commandName, ...positionals] = parsed.positionals;
  const command = commandName ? COMMANDS[commandName] : undefined;
  if (!command) {
    (parsed.values.help ? io.stdout : io.stderr)(commandName ? `unknown command "${commandName}"\n\n${USAGE}` : USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const settings = readToolSettings(io.env);
  return command(io, {
    dir: resolve(io.cwd, text(parsed.values, 'dir') ?? settings.shared.policiesDir),
    supergraphPath: resolve(io.cwd, text(parsed.values, 'supergraph') ?? settings.supergraphPath),
    values: parsed.values,
    positionals,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
    cwd: readToolSettings().invocationDir ?? process.cwd(),
    env: policyCommandEnvironment(),
  });
}

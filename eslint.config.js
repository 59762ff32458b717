import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { ERROR_CODES } from './lib/error-registry.ts';

/**
 * The modules that may read the environment: one per kind of process, and the settings they share
 * (docs/configuration.md). The install script too: it runs before the dependencies exist, on
 * whatever Node the machine has, and so cannot load a TypeScript configuration module.
 */
const CONFIGURATION_MODULES = [
  'lib/config/read.ts',
  'lib/config/shared.ts',
  'gateway/config.ts',
  'subgraphs/runtime/config.ts',
  'scripts/config.ts',
  'console/config.ts',
  'scripts/postinstall.mjs',
];
/** A registry code written as a string: product code names codes as `ErrorCode.X` (docs/errors.md). */
const ERROR_CODE_STRING = `/^(${ERROR_CODES.join('|')})$/`;
const PRODUCT_CODE = [
  'gateway/**/*.ts',
  'lib/**/*.ts',
  'subgraphs/**/*.ts',
  'scripts/**/*.ts',
  'scripts/**/*.mjs',
  'schema/**/*.ts',
];
const CONFIGURATION_MESSAGE = 'Read settings from the configuration module of the process (docs/configuration.md).';
const READS_ENVIRONMENT = { object: 'process', property: 'env', message: CONFIGURATION_MESSAGE };
const DESTRUCTURES_ENVIRONMENT = {
  selector: 'VariableDeclarator[init.name="process"] > ObjectPattern > Property[key.name="env"]',
  message: CONFIGURATION_MESSAGE,
};
const REGISTRY_MESSAGE =
  'Name error codes through the registry: ErrorCode.X from lib/error-registry.ts (docs/errors.md).';
const NAMES_ERROR_CODE = [
  { selector: `Literal[value=${ERROR_CODE_STRING}]`, message: REGISTRY_MESSAGE },
  {
    selector: `TemplateLiteral[expressions.length=0] > TemplateElement[value.cooked=${ERROR_CODE_STRING}]`,
    message: REGISTRY_MESSAGE,
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'schema/supergraph.graphql', 'test-results/', 'console/assets/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // node:test's describe() and it() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Functions that implement an async interface are async even when they need no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // One configuration module per kind of process: nothing else reads the environment. One
    // error registry: a code string anywhere but the registry could drift from its status,
    // message and extensions. Tests may do both: they configure the processes they spawn, and
    // the codes they expect are the oracle.
    files: PRODUCT_CODE,
    ignores: CONFIGURATION_MODULES,
    rules: {
      'no-restricted-properties': ['error', READS_ENVIRONMENT],
      'no-restricted-syntax': ['error', DESTRUCTURES_ENVIRONMENT, ...NAMES_ERROR_CODE],
    },
  },
  {
    files: CONFIGURATION_MODULES,
    rules: { 'no-restricted-syntax': ['error', ...NAMES_ERROR_CODE] },
  },
  {
    // The console is a process of its own with its own configuration module. Its refusals
    // (x-console-refusal: SELF_APPROVAL, STALE_PROPOSAL, ...) are the console's pages' own codes,
    // not GraphQL answers, so the registry's rule does not apply; the environment's does.
    files: ['console/**/*.ts'],
    ignores: CONFIGURATION_MODULES,
    rules: {
      'no-restricted-properties': ['error', READS_ENVIRONMENT],
      'no-restricted-syntax': ['error', DESTRUCTURES_ENVIRONMENT],
    },
  },
  {
    files: ['eslint.config.js', 'scripts/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The explorer's page script runs in the browser (gateway/explorer/).
    files: ['gateway/explorer/client.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', React: 'readonly', ReactDOM: 'readonly', GraphiQL: 'readonly' },
    },
  },
);

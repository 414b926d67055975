// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layering (docs/development.md): what a folder of src/ may import. Each pattern is a regular expression on
 * the import's specifier; relative specifiers are written from a file directly inside the folder.
 */
const GRAPHQL_PACKAGES = {
  regex: '^(graphql|fastify)($|/)|^@(apollo|as-integrations|escape\\.tech)/',
  message: 'This layer knows no GraphQL and no HTTP server: keep it to its own concern.',
};
const GATEWAY_LAYERS = {
  regex: '^\\.\\./(graphql|plugins|planner|http)/|^\\.\\./server\\.js$',
  message:
    'This layer may not reach up into GraphQL, the plugins, the planner, the HTTP layer or the server.',
};
const restrictImports = (/** @type {object[]} */ ...patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'src/generated/', 'bench/out/', 'test/.artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.ts only.' },
      ],
    },
  },
  // The Defender client and its routes, ids, OData, DTOs, resources and breaker: REST only.
  { files: ['src/defender/**'], rules: restrictImports(GRAPHQL_PACKAGES, GATEWAY_LAYERS) },
  // The limiters hold permits and windows, nothing about operations.
  { files: ['src/rate-limit/**'], rules: restrictImports(GRAPHQL_PACKAGES, GATEWAY_LAYERS) },
  // The caches hold bytes; Apollo's document store (apollo-caches.ts) and its byte estimate (budget.ts) need
  // graphql's DocumentNode type, and nothing of graphql at run time.
  {
    files: ['src/cache/**'],
    rules: restrictImports({ ...GRAPHQL_PACKAGES, allowTypeImports: true }, GATEWAY_LAYERS),
  },
  // The simulator stands for Defender: of the gateway it shares only the wire (DTO types, route names and
  // default limits) and the limit syntax and sliding-window log that say what "100 calls per 60 s" means.
  {
    files: ['src/simulator/**'],
    rules: restrictImports(GRAPHQL_PACKAGES, {
      regex: '^\\.\\./(?!defender/(types|apis)\\.js$|rate-limit/(windows|sliding-window)\\.js$)',
      message:
        'The simulator imports only the wire types (defender/types.ts, defender/apis.ts) and the limit ' +
        'windows (rate-limit/windows.ts, rate-limit/sliding-window.ts) from the gateway.',
    }),
  },
  {
    files: [
      'src/config.ts',
      'src/simulator/config.ts',
      'test/**',
      'bench/**',
      'codegen.ts',
      'vitest.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
);

// `npm run lint`: typescript-eslint's strict type-checked rules over the server (`eslint src`; the tests,
// benchmarks and tools are typechecked by `npm run typecheck`, not linted).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'test/generated/',
      'tools/codegen/',
      'web/',
      'test/fixtures/',
      '**/*.mjs',
      '**/*.mts',
      'codegen.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Overflows its stack on graphql-js's recursive types (src/graphql/cost.ts), typescript-eslint 8.74.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // Messages name counts and limits: numbers in template strings are meant.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `(x) => doSomething(x)` as a void callback is this codebase's style for one-line handlers.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Used where a local invariant holds (a key just set, a row the query guarantees); each is commented or evident.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Unused on purpose: type-graphql's @Arg parameters that only shape the subscription filter, skipped tuple items.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Async kept where the caller's interface wants a promise (Apollo plugin hooks, AsyncIterator's return/throw).
      '@typescript-eslint/require-await': 'off',
      // Rejections here are Errors by construction (our own, pg's, jose's); each callback reads name and message.
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      // Flags JWT `sub` claims as String.prototype.sub, and APIs whose replacements the pinned versions lack.
      '@typescript-eslint/no-deprecated': 'off',
      // Defensive checks at trust boundaries: values from the wire or a driver need not match their types.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Y.Text and GraphQL extension values define their own toString.
      '@typescript-eslint/no-base-to-string': 'off',
      // String enums compared with, or read from, the wire strings they equal (graphql-ws close codes, role claims).
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unsafe-enum-assignment': 'off',
      // Input classes of type-graphql are plain data: spreading them into records' inputs is meant.
      '@typescript-eslint/no-misused-spread': 'off',
      // `stop` functions are closures or bound, passed around as values.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Interop with APIs typed `any`: tarn's pool internals, type-graphql's
    // root arguments, graphql-js execution plumbing.
    files: [
      'src/http/metrics.ts',
      'src/records/together.ts',
      'src/graphql/sharedExecution.ts',
      'src/records/nodes.ts',
      'src/records/timeline.ts',
      'src/resolvers/*.ts',
      'src/schema/textInputs.ts',
    ],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
);

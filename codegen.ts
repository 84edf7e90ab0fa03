import type { CodegenConfig } from '@graphql-codegen/cli';

/** Types the operations the tests send (test/**\/*.graphql) against the checked-in schema. */
const config: CodegenConfig = {
  schema: 'src/schema/schema.graphql',
  documents: ['test/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', Date: 'string', ID: 'string' },
      },
    },
  },
};

export default config;

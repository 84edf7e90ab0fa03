import path from 'node:path';
import type { CodegenConfig } from '@graphql-codegen/cli';

// Run from tools/codegen (`npm run codegen`), where the generator is installed: paths from this file.
const here = (file: string) => path.join(__dirname, file);

/** Types the operations the tests send (test/**\/*.graphql) against the checked-in schema. */
const config: CodegenConfig = {
  schema: here('src/schema/schema.graphql'),
  documents: [here('test/**/*.graphql')],
  ignoreNoDocuments: false,
  generates: {
    [here('test/generated/')]: {
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

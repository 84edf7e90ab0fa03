import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGraphQLSchema, printGraphQLSchema } from '../src/schema/build';

describe('src/schema/schema.graphql', () => {
  it('is what the resolvers emit (run `npm run schema` and `npm run codegen` after changing them)', async () => {
    const checkedIn = await readFile(path.resolve(__dirname, '../src/schema/schema.graphql'), 'utf8');
    expect(printGraphQLSchema(await buildGraphQLSchema())).toBe(checkedIn);
  });
});

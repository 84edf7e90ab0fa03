import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getNamedType, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildGraphQLSchema, printGraphQLSchema } from '../src/schema/build';

describe('src/schema/schema.graphql', () => {
  it('is what the resolvers emit (run `npm run schema` and `npm run codegen` after changing them)', async () => {
    const checkedIn = await readFile(path.resolve(__dirname, '../src/schema/schema.graphql'), 'utf8');
    expect(printGraphQLSchema(await buildGraphQLSchema())).toBe(checkedIn);
  });

  it('reaches psychotherapy notes from nowhere but their own query and mutation', async () => {
    // Lists, the timeline and subscriptions (which share one execution between clinicians of a
    // role) must never carry a note; only these two root fields, scoped to the author, may.
    const schema = await buildGraphQLSchema();
    const reaching: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (getNamedType(field.type).name === 'PsychotherapyNote') reaching.push(`${type.name}.${field.name}`);
      }
    }
    expect(reaching.sort()).toEqual(['Mutation.writePsychotherapyNote', 'Query.psychotherapyNote']);
  });
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getNamedType, isInterfaceType, isNonNullType, isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { NODE_TYPES } from '../src/records/nodes';
import { buildGraphQLSchema, printGraphQLSchema } from '../src/resolvers/schema';

describe('src/schema/schema.graphql', () => {
  it('is what the resolvers emit (run `npm run schema` and `npm run codegen` after changing them)', async () => {
    const checkedIn = await readFile(path.resolve(__dirname, '../src/schema/schema.graphql'), 'utf8');
    expect(printGraphQLSchema(await buildGraphQLSchema())).toBe(checkedIn);
  });

  it("resolves every object type's plain fields as graphql-js does, without type-graphql's middleware wrapper", async () => {
    // No field has middlewares or a renamed property, so the wrapper (a closure, its arguments and a
    // middleware chain for every field of every row of a page) bought nothing; a type added later
    // without `simpleResolvers: true` fails here. Field resolvers (@FieldResolver) are unaffected.
    await buildGraphQLSchema();
    const wrapped = getMetadataStorage()
      .objectTypes.filter((type) => type.simpleResolvers !== true)
      .map((type) => type.name);
    expect(wrapped).toEqual([]);
    const special = getMetadataStorage()
      .fields.filter((field) => (field.middlewares ?? []).length > 0 || field.name !== field.schemaName)
      .map((field) => `${field.target.name}.${field.name}`);
    expect(special).toEqual([]);
  });

  it('reaches psychotherapy notes from nowhere but their own query and mutation', async () => {
    // Lists, the timeline and subscriptions (which share one execution between clinicians of a
    // role) must never carry a note; only these two root fields, scoped to the author, may.
    const schema = await buildGraphQLSchema();
    const reaching: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (getNamedType(field.type).name === 'PsychotherapyNote')
          reaching.push(`${type.name}.${field.name}`);
      }
    }
    expect(reaching.sort()).toEqual(['Mutation.writePsychotherapyNote', 'Query.psychotherapyNote']);
  });

  it('makes every object type with an id a Node that node(id:) can find', async () => {
    // A type added later with `id: ID!` fails here until it implements Node (`@ObjectType({ implements: Node })`)
    // and src/records/nodes.ts knows where its rows live.
    const schema = await buildGraphQLSchema();
    const node = schema.getType('Node');
    expect(isInterfaceType(node)).toBe(true);
    const withId = Object.values(schema.getTypeMap()).filter((type) => {
      if (!isObjectType(type) || type.name.startsWith('__')) return false;
      const id = type.getFields().id;
      return id !== undefined && isNonNullType(id.type) && getNamedType(id.type).name === 'ID';
    });
    const missing = withId
      .filter((type) => isObjectType(type) && !type.getInterfaces().some((i) => i.name === 'Node'))
      .map((t) => t.name);
    expect(missing, 'object types with id: ID! that do not implement Node').toEqual([]);
    const implementations = schema
      .getImplementations(node as never)
      .objects.map((t) => t.name)
      .sort();
    expect(implementations).toEqual([...NODE_TYPES].sort());
  });
});

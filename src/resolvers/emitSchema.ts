import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildGraphQLSchema, printGraphQLSchema } from './schema';

/** `npm run schema`: rewrites src/schema/schema.graphql from the resolvers. */
async function main() {
  const target = path.resolve(process.cwd(), 'src/schema/schema.graphql');
  await writeFile(target, printGraphQLSchema(await buildGraphQLSchema()));
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}

void main();

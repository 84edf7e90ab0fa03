// `npm run lint`, first part: the import graph of src/ (type imports included) has no cycle between
// files, except the ORM entity pairs below, and no folder imports a folder of a higher layer.
import madge from 'madge';

/** Entities that reference each other for the ORM (a relation and its inverse side). */
const ALLOWED_CYCLES = [
  ['entities/CareTeamMember.ts', 'entities/Patient.ts'],
  ['entities/Measure.ts', 'entities/ScoreAlert.ts'],
];

/**
 * Layers, lowest first: a folder (or a file directly in src/) may import its own layer and those
 * below it, never one above. Within a layer folders may import each other as long as no cycle forms
 * (checked by the file cycles above, and by the folder cycle check below).
 */
const LAYERS = [
  ['config', 'errors.ts', 'ids.ts', 'logger.ts'],
  ['domain'],
  // The entities are GraphQL object types too: the scalars and the Node interface they are declared
  // with live beside them (entities/Node.ts, entities/scalars.ts).
  ['db', 'entities', 'events', 'auth'],
  ['records'],
  // The GraphQL types besides the entities (connections, the timeline, plan sections, inputs) are
  // the transport's: the records return plain shapes that these types show.
  ['graphql', 'schema', 'resolvers', 'http', 'collab'],
  ['app.ts', 'main.ts'],
];

const result = await madge('src', {
  fileExtensions: ['ts'],
  tsConfig: 'tsconfig.json',
  detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
});
const problems = [];

const allowed = (cycle) =>
  ALLOWED_CYCLES.some((pair) => cycle.length === pair.length && pair.every((file) => cycle.includes(file)));
for (const cycle of result.circular())
  if (!allowed(cycle)) problems.push(`import cycle: ${cycle.join(' > ')}`);

const unit = (file) => (file.includes('/') ? file.split('/')[0] : file);
const rank = new Map(LAYERS.flatMap((names, i) => names.map((name) => [name, i])));
const folderEdges = new Map();
for (const [from, imports] of Object.entries(result.obj())) {
  for (const to of imports) {
    if (to.startsWith('..')) continue;
    const [a, b] = [unit(from), unit(to)];
    if (a === b) continue;
    if (!rank.has(a) || !rank.has(b)) {
      problems.push(`${from} -> ${to}: ${rank.has(a) ? b : a} is in no layer (tools/checkImports.mjs)`);
      continue;
    }
    if (rank.get(a) < rank.get(b)) problems.push(`${from} imports ${to}: ${a} is below ${b}`);
    if (!folderEdges.has(a)) folderEdges.set(a, new Set());
    folderEdges.get(a).add(b);
  }
}

// Folders of one layer importing each other in a circle (files need not form a cycle for that).
const visiting = new Set();
const done = new Set();
const visit = (folder, path) => {
  if (done.has(folder)) return;
  if (visiting.has(folder)) {
    problems.push(`folder cycle: ${[...path.slice(path.indexOf(folder)), folder].join(' > ')}`);
    return;
  }
  visiting.add(folder);
  for (const next of folderEdges.get(folder) ?? []) visit(next, [...path, folder]);
  visiting.delete(folder);
  done.add(folder);
};
for (const folder of folderEdges.keys()) visit(folder, []);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports: ${Object.keys(result.obj()).length} files, no cycles, layers kept`);

import { readFileSync } from 'node:fs';

/**
 * `node dist/bench/profile.js <file.cpuprofile>`: where a server's busy time went, from the profile
 * `BENCH_SERVER_ARGS=--cpu-prof` makes: self time by package (this project's code by folder), then
 * the functions with the most self time. Idle time is left out.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

function category({ functionName, url }: ProfileNode['callFrame']): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  if (url.includes('/dist/src/')) return `this project: src/${url.split('/dist/src/')[1].split('/')[0]}`;
  if (url.startsWith('node:')) return `Node: ${url.slice(5).split('/')[0]}`;
  return url ? 'other' : `native (${functionName})`;
}

function main() {
  const profile = JSON.parse(readFileSync(process.argv[2], 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)!.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    const name = category(frame);
    byCategory.set(name, (byCategory.get(name) ?? 0) + micros);
    if (name === 'idle') return;
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '')}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  });
  const busy = [...byCategory].reduce((sum, [name, micros]) => (name === 'idle' ? sum : sum + micros), 0);
  const share = (micros: number) => `${((100 * micros) / busy).toFixed(1)} %`;
  console.log(`busy ${(busy / 1000).toFixed(0)} ms`);
  for (const [name, micros] of [...byCategory]
    .filter(([n]) => n !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15))
    console.log(`${share(micros).padStart(7)}  ${name}`);
  console.log('functions:');
  for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${share(micros).padStart(7)}  ${name}`);
}

main();

import { alertFanout, formatFanout } from './alertFanout';
import { alertsNetwork, formatNetwork } from './alertsNetwork';
import { collabOpen, formatOpen } from './collabOpen';
import { collabRelay, formatRelay } from './collabRelay';
import { formatDashboard, graphqlDashboard } from './graphqlDashboard';
import { machine } from './support';

/**
 * `npm run bench [name…]`: runs the named benchmarks (all by default) and prints Markdown for
 * BENCHMARKS.md. Each compares against a baseline measured in the same run.
 */
const benchmarks: Record<string, (log: (line: string) => void) => Promise<string[]>> = {
  alerts: async (log) => formatFanout(await alertFanout(log)),
  'alerts-network': async (log) => formatNetwork(await alertsNetwork(log)),
  collab: async (log) => formatRelay(await collabRelay(log)),
  'collab-open': async (log) => formatOpen(await collabOpen(log)),
  graphql: async (log) => formatDashboard(await graphqlDashboard(log, 'dashboard')),
  'graphql-patient': async (log) => formatDashboard(await graphqlDashboard(log, 'patient')),
};

async function main() {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(benchmarks);
  for (const name of names)
    if (!benchmarks[name])
      throw new Error(`No benchmark "${name}"; there are: ${Object.keys(benchmarks).join(', ')}`);
  const log = (line: string) => console.error(line);
  const out = [`Machine: ${machine()}`, ''];
  for (const name of names) {
    log(`${name}:`);
    out.push(`### ${name}`, '', ...(await benchmarks[name](log)), '');
  }
  console.log(out.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

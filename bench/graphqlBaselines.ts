import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { bearerToken, createTokenService, type TokenService } from '../src/auth/tokens';
import { BENCH_SECRET } from './support';

/**
 * Baselines for the graphql benchmark, each in its own process as ours is:
 * `node graphqlBaselines.js postgraphile|floor <database url>`. Both check the bearer token with the
 * server's own token code and answer only the caller's care-team patients. Prints `BASELINE <port>`
 * once listening.
 */

/**
 * The floor: plain node:http and pg, the dashboard page in one hand-written statement that also
 * stores the audit rows the server stores for it (a patient.read per patient and a measure.read per
 * latest measure), in the same statement. It answers one patient's view when the variables name
 * a patient (`id`), and otherwise the dashboard of `variables.first` patients, whatever the operation.
 */
export const FLOOR_DASHBOARD = `
with me as (select id from clinician where sub = $1),
page as (
  select p.id, p.first_name, p.last_name, p.status from patient p
  where exists (select 1 from care_team_member m where m.patient_id = p.id and m.clinician_id = (select id from me))
  order by p.id limit $2 + 1
),
shown as (select * from page order by id limit $2),
latest as (
  select distinct on (m.patient_id, m.instrument) m.id, m.patient_id, m.instrument, m.total_score, m.severity, m.administered_at
  from measure m where m.patient_id in (select id from shown)
  order by m.patient_id, m.instrument, m.administered_at desc, m.id desc
),
audited as (
  insert into audit_event (at, clinician_id, action, patient_id, entity, entity_id, request_id)
  select statement_timestamp(), (select id from me), 'patient.read', id, 'Patient', id::text, $3 from shown
  union all
  select statement_timestamp(), (select id from me), 'measure.read', patient_id, 'Measure', id::text, $3 from latest
)
select json_build_object('data', json_build_object('patients', json_build_object(
  'edges', coalesce((select json_agg(json_build_object('node', json_build_object(
      'id', s.id, 'firstName', s.first_name, 'lastName', s.last_name, 'status', s.status,
      'careTeam', (select coalesce(json_agg(json_build_object('role', m.role, 'clinician', json_build_object('name', c.name)) order by m.added_at, m.id), '[]'::json)
                   from care_team_member m join clinician c on c.id = m.clinician_id where m.patient_id = s.id),
      'latestMeasures', (select coalesce(json_agg(json_build_object('instrument', l.instrument, 'totalScore', l.total_score, 'severity', l.severity,
                           'administeredAt', to_char(l.administered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by l.instrument), '[]'::json)
                         from latest l where l.patient_id = s.id)
    )) order by s.id) from shown s), '[]'::json),
  'pageInfo', json_build_object('hasNextPage', (select count(*) from page) > $2, 'endCursor', (select id::text from shown order by id desc limit 1))
))) as body`;

/** The floor's answer to one patient's view (`variables.id`), audited as the server audits it. */
export const FLOOR_PATIENT = `
with me as (select id from clinician where sub = $1),
shown as (
  select p.id, p.first_name, p.last_name, p.status from patient p
  where p.id = $2 and exists (select 1 from care_team_member m where m.patient_id = p.id and m.clinician_id = (select id from me))
),
recent as (
  select m.id, m.patient_id, m.instrument, m.total_score, m.severity, m.administered_at from measure m
  where m.patient_id = (select id from shown) order by m.administered_at desc, m.id desc limit 20
),
open_alerts as (select a.id, a.patient_id, a.kind, a.level, a.message from score_alert a where a.patient_id = (select id from shown) and a.acknowledged_at is null),
audited as (
  insert into audit_event (at, clinician_id, action, patient_id, entity, entity_id, request_id)
  select statement_timestamp(), (select id from me), 'patient.read', id, 'Patient', id::text, $3 from shown
  union all select statement_timestamp(), (select id from me), 'measure.read', patient_id, 'Measure', id::text, $3 from recent
  union all select statement_timestamp(), (select id from me), 'alert.read', patient_id, 'ScoreAlert', id::text, $3 from open_alerts
)
select json_build_object('data', json_build_object('patient', (select json_build_object(
  'id', s.id, 'firstName', s.first_name, 'lastName', s.last_name, 'status', s.status,
  'careTeam', (select coalesce(json_agg(json_build_object('role', m.role, 'clinician', json_build_object('name', c.name)) order by m.added_at, m.id), '[]'::json)
               from care_team_member m join clinician c on c.id = m.clinician_id where m.patient_id = s.id),
  'measures', json_build_object('edges', (select coalesce(json_agg(json_build_object('node', json_build_object('id', r.id, 'instrument', r.instrument,
      'totalScore', r.total_score, 'severity', r.severity, 'administeredAt', to_char(r.administered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
      order by r.administered_at desc, r.id desc), '[]'::json) from recent r)),
  'alerts', (select coalesce(json_agg(json_build_object('id', a.id, 'kind', a.kind, 'level', a.level, 'message', a.message) order by a.id desc), '[]'::json) from open_alerts a)
) from shown s))) as body`;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

async function subOf(tokens: TokenService, req: IncomingMessage): Promise<string | undefined> {
  try {
    return (await tokens.verify(bearerToken(req.headers.authorization))).sub;
  } catch {
    return undefined;
  }
}

function listen(server: ReturnType<typeof createServer>) {
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`BASELINE ${typeof address === 'object' && address ? address.port : ''}`);
  });
}

async function floor(databaseUrl: string, tokens: TokenService) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  let requests = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const sub = await subOf(tokens, req);
      const body = JSON.parse(await readBody(req)) as { variables?: { first?: number; id?: string } };
      if (!sub)
        return res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"errors":[{"message":"unauthenticated"}]}');
      const requestId = `floor-${process.pid}-${++requests}`;
      const { rows } = await pool.query<{ body: unknown }>(
        body.variables?.id
          ? { text: FLOOR_PATIENT, values: [sub, body.variables.id, requestId] }
          : { text: FLOOR_DASHBOARD, values: [sub, body.variables?.first ?? 20, requestId] },
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows[0].body));
    })().catch((error: unknown) => {
      // A client that hangs up at the end of a round is no failure of the floor's.
      if ((error as { code?: string }).code !== 'ECONNRESET') console.error(error);
      res.writeHead(500).end();
    });
  });
  listen(server);
}

/**
 * PostGraphile 4.14 from its own install (bench/postgraphile: it needs graphql 15), as a library in
 * node:http. `pgSettings` switches to a role that row-level security restricts to the caller's care
 * teams (policies from the benchmark's setup), so it answers the same rows as the server, without audit.
 */
async function postgraphile(databaseUrl: string, tokens: TokenService) {
  const requireThere = createRequire(
    path.join(__dirname, '..', '..', 'bench', 'postgraphile', 'package.json'),
  );
  const { postgraphile: middleware } = requireThere('postgraphile') as {
    postgraphile: (
      pool: unknown,
      schema: string,
      options: Record<string, unknown>,
    ) => (req: IncomingMessage, res: unknown) => void;
  };
  const { Pool } = requireThere('pg') as typeof pg;
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  const subs = new WeakMap<IncomingMessage, string>();
  const handler = middleware(pool, 'public', {
    graphqlRoute: '/graphql',
    simpleCollections: 'both',
    disableDefaultMutations: true,
    ignoreRBAC: false,
    setofFunctionsContainNulls: false,
    retryOnInitFail: false,
    pgSettings: (req: IncomingMessage) => ({
      role: 'kap_bench_clinician',
      'jwt.claims.sub': subs.get(req) ?? '',
    }),
  });
  const server = createServer((req, res) => {
    void subOf(tokens, req).then((sub) => {
      if (!sub)
        return res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"errors":[{"message":"unauthenticated"}]}');
      subs.set(req, sub);
      handler(req, res);
    });
  });
  listen(server);
}

async function main() {
  const [which, databaseUrl] = process.argv.slice(2);
  const tokens = await createTokenService({ kind: 'secret', secret: BENCH_SECRET }, '/nonexistent');
  if (which === 'floor') await floor(databaseUrl, tokens);
  else if (which === 'postgraphile') await postgraphile(databaseUrl, tokens);
  else throw new Error(`unknown baseline ${which}`);
}

void main();
process.on('SIGTERM', () => process.exit(0));

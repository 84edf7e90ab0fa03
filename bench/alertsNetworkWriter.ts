import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { signer } from './support';

/**
 * The writer of `npm run bench alerts-network`, its own process so that its requests do not share an
 * event loop with the 1,000 subscribers whose receipts are timed. Told a step over IPC, it records one
 * PHQ-9 measure per tick at a steady rate (open loop: a tick is not held back by a slow answer), spread
 * over the instances in turn, and answers with every write's outcome.
 */
export interface WriterStep {
  urls: string[];
  /** The patients to write for, in order, each with the care-team member who records the measure. */
  patients: { id: string; recorder: { sub: string; email: string; name: string; role: string } }[];
  /** Index into `patients` of the first write, so that successive steps move on through them. */
  start: number;
  rate: number;
  seconds: number;
}

export interface WriteOutcome {
  patient: number;
  /** The HTTP status; 0 when the request failed without one. */
  status: number;
  measureId?: string;
  /** Epoch milliseconds (high resolution) of the answer, comparable with the subscribers' clock. */
  respondedAt: number;
}

const RECORD = `mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id } }`;
// Item 9 answered 1, total 1: exactly one alert (SUICIDAL_IDEATION, CRITICAL) per measure.
export const RESPONSES = [0, 0, 0, 0, 0, 0, 0, 0, 1];
/** Beyond this many unanswered writes a tick is skipped (and counted), so a stalled server cannot exhaust the writer. */
const MAX_IN_FLIGHT = 2000;

export const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Requests over node:http with kept-alive sockets: `fetch` (undici) cost the writer about 1 ms of CPU
 * per write, CPU that the server under test and PostgreSQL share on this machine. An idle socket is
 * closed here after 4 s, before the server's keep-alive (5 s, announced in `Keep-Alive`, which Node's
 * agent heeds only when it has a timeout of its own) closes it: a socket reused just as the server
 * closed it failed its write with ECONNRESET, and that step counted as saturated.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });

function post(url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Each recorder's token, signed once for the whole run as a front end keeps one until it expires. */
const tokens = new Map<string, string>();

async function runStep(
  step: WriterStep,
  sign: Awaited<ReturnType<typeof signer>>,
): Promise<{ writes: WriteOutcome[]; skipped: number }> {
  const tokenOf = async (recorder: WriterStep['patients'][number]['recorder']) => {
    let token = tokens.get(recorder.sub);
    if (!token) tokens.set(recorder.sub, (token = await sign(recorder)));
    return token;
  };
  const total = Math.round(step.rate * step.seconds);
  const writes: WriteOutcome[] = [];
  const pending: Promise<void>[] = [];
  let inFlight = 0;
  let skipped = 0;
  const began = performance.now();
  const write = async (n: number) => {
    const index = (step.start + n) % step.patients.length;
    const patient = step.patients[index];
    const token = await tokenOf(patient.recorder);
    inFlight++;
    try {
      const response = await post(
        `${step.urls[n % step.urls.length]}/graphql`,
        token,
        JSON.stringify({
          query: RECORD,
          variables: { input: { patientId: patient.id, instrument: 'PHQ9', responses: RESPONSES } },
        }),
      );
      const respondedAt = epochNow();
      const body = JSON.parse(response.text) as {
        data?: { recordMeasure?: { id: string } };
        errors?: unknown[];
      };
      if ((response.status === 200 && body.errors) || (response.status !== 200 && response.status !== 503))
        console.error(`writer: ${response.status} ${JSON.stringify(body.errors).slice(0, 300)}`);
      writes.push({
        patient: index,
        status: response.status,
        measureId: body.data?.recordMeasure?.id,
        respondedAt,
      });
    } catch (error) {
      // Counted as failed; why is said, since a failure is never expected.
      console.error(`writer: no answer: ${(error as Error).message}`);
      writes.push({ patient: index, status: 0, respondedAt: epochNow() });
    } finally {
      inFlight--;
    }
  };
  for (let n = 0; n < total; n++) {
    const due = began + (n * 1000) / step.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= MAX_IN_FLIGHT) skipped++;
    else pending.push(write(n));
  }
  await Promise.all(pending);
  return { writes, skipped };
}

if (require.main === module) {
  void signer().then((sign) => {
    process.on('message', (step: WriterStep) => {
      void runStep(step, sign).then((result) => process.send!(result));
    });
    process.send!('ready');
  });
}

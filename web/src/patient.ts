import { INSTRUMENTS, Instrument } from '../../src/domain/instruments';
import { instrumentChart, type ChartMeasure } from './chart';
import { fill, formatDateTime, h, words } from './dom';
import type { Api } from './graphql';
import { measureForm } from './measureForm';
import { mountPlan, type Plan } from './plan';
import { MEASURES, MEASURE_RECORDED, PATIENT, TIMELINE } from './operations';

interface PatientData {
  id: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  status: string;
  careTeam: { role: string; clinician: { id: string; name: string } }[];
  treatmentPlans: Plan[];
}

type TimelineItem = Record<string, unknown> & { __typename: string };
interface TimelineEntry {
  at: string;
  kind: string;
  item: TimelineItem;
}
interface Page<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * One patient: who they are, their scores as plots, the measure form, the live plan, the timeline.
 * `onMeasure` is told of each measure recorded for them, from here or elsewhere.
 */
export async function mountPatient(
  container: HTMLElement,
  api: Api,
  me: { id: string; role: string },
  patientId: string,
  onMeasure: () => void,
): Promise<() => void> {
  const { patient } = await api.request<{ patient: PatientData | null }>(PATIENT, { id: patientId });
  if (!patient) {
    fill(container, h('p', {}, 'This patient is no longer on your care team.'));
    return () => {};
  }
  const charts = h('div', { class: 'charts' });
  const timeline = h('ol', { class: 'timeline' });
  const older = h('button', { type: 'button', hidden: true }, 'Show older');
  const planBox = h('div', { class: 'plan' });
  let timelineCursor: string | null = null;

  const loadCharts = async () => {
    const measures: ChartMeasure[] = [];
    let after: string | null = null;
    do {
      const page: { patient: { measures: Page<ChartMeasure> } } = await api.request(MEASURES, {
        id: patientId,
        after,
      });
      measures.push(...page.patient.measures.edges.map((e) => e.node));
      after = page.patient.measures.pageInfo.hasNextPage ? page.patient.measures.pageInfo.endCursor : null;
    } while (after);
    const recorded = Object.values(Instrument).filter((instrument) =>
      measures.some((m) => m.instrument === instrument),
    );
    fill(
      charts,
      ...recorded.map((instrument) =>
        instrumentChart(
          instrument,
          measures.filter((m) => m.instrument === instrument),
        ),
      ),
      recorded.length === 0 && h('p', {}, 'No measures recorded yet.'),
    );
    charts.dataset.measures = String(measures.length);
  };
  const loadTimeline = async (more: boolean) => {
    const { patient: page } = await api.request<{ patient: { timeline: Page<TimelineEntry> } }>(TIMELINE, {
      id: patientId,
      after: more ? timelineCursor : null,
    });
    const entries = page.timeline.edges.map((e) => timelineEntry(e.node));
    if (more) timeline.append(...entries);
    else fill(timeline, ...entries, entries.length === 0 && h('li', {}, 'Nothing recorded yet.'));
    timelineCursor = page.timeline.pageInfo.endCursor;
    older.hidden = !page.timeline.pageInfo.hasNextPage;
  };
  older.addEventListener(
    'click',
    () =>
      void loadTimeline(true).catch(
        (error) => (problem.textContent = `Could not load older entries: ${(error as Error).message}`),
      ),
  );
  const problem = h('p', { class: 'problem', role: 'alert' });
  const refresh = async () => {
    try {
      await Promise.all([loadCharts(), loadTimeline(false)]);
      problem.textContent = '';
    } catch (error) {
      problem.textContent = `Could not load the scores or the timeline: ${(error as Error).message}`;
    }
  };

  const heading = h('h2', { tabindex: -1 }, `${patient.firstName} ${patient.lastName}`);
  fill(
    container,
    h(
      'header',
      { class: 'patient-head' },
      heading,
      h(
        'p',
        {},
        `Born ${patient.dateOfBirth} · `,
        h('span', { class: `status status-${patient.status}` }, words(patient.status)),
        ' · Care team: ',
        patient.careTeam.map((m) => `${m.clinician.name} (${words(m.role)})`).join(', '),
      ),
    ),
    problem,
    h(
      'section',
      { 'aria-labelledby': 'scores-heading', class: 'card' },
      h('h3', { id: 'scores-heading' }, 'Scores over time'),
      charts,
    ),
    h('section', { class: 'card' }, measureForm(api, patientId)),
    h(
      'section',
      { 'aria-labelledby': 'plan-heading', class: 'card' },
      h('h3', { id: 'plan-heading' }, 'Treatment plan'),
      planBox,
    ),
    h(
      'section',
      { 'aria-labelledby': 'timeline-heading', class: 'card' },
      h('h3', { id: 'timeline-heading' }, 'Timeline'),
      timeline,
      older,
    ),
  );
  heading.focus();

  const plan = patient.treatmentPlans[0];
  const closePlan = plan
    ? mountPlan(planBox, api, me, plan)
    : (fill(planBox, h('p', {}, 'No treatment plan yet.')), () => {});
  await refresh();
  const unsubscribe = api.subscribe(MEASURE_RECORDED, { patientId }, () => {
    void refresh();
    onMeasure();
  });
  return () => {
    unsubscribe();
    closePlan();
  };
}

function timelineEntry({ at, kind, item }: TimelineEntry): HTMLElement {
  return h(
    'li',
    { 'data-kind': kind },
    h('time', { datetime: at }, formatDateTime(at)),
    ' ',
    describe(kind, item),
  );
}

function describe(kind: string, item: TimelineItem): string {
  switch (item.__typename) {
    case 'Measure':
      return `${INSTRUMENTS[item.instrument as Instrument]?.label ?? item.instrument}: ${item.totalScore} (${words(String(item.severity))})`;
    case 'ScoreAlert':
      return `${item.level} alert: ${item.message}`;
    case 'TreatmentSession':
      return `${words(String(item.sessionKind))} session${item.completedAt ? ', completed' : ', scheduled'}`;
    case 'Prescription':
      return `Prescription: ${words(String(item.medication))} ${item.doseMg} mg ${words(String(item.route))}${item.voidedAt ? ' (voided)' : ''}`;
    case 'Consent':
      return `Consent recorded (${item.textVersion})`;
    case 'EligibilityAssessment':
      return `Eligibility assessment: ${words(String(item.decision))}`;
    case 'TreatmentCourse':
      return kind === 'COURSE_CLOSED'
        ? `Course ${item.number} closed${item.dischargeReason ? `: ${item.dischargeReason}` : ''}`
        : `Course ${item.number} opened`;
    default:
      return words(item.__typename);
  }
}

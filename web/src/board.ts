import { INSTRUMENTS, type Instrument } from '../../src/domain/instruments';
import { fill, formatDateTime, h, words } from './dom';
import type { Api, ConnectionState } from './graphql';
import { mountPatient } from './patient';
import { ACKNOWLEDGE, ALERTS_LIVE, ME, OPEN_ALERTS, PATIENTS, PATIENT_ROW } from './operations';

interface Me {
  id: string;
  name: string;
  role: string;
}
interface PatientRow {
  id: string;
  firstName: string;
  lastName: string;
  status: string;
  careTeam: { role: string; clinician: { id: string; name: string } }[];
  latestMeasures: { instrument: Instrument; totalScore: number; severity: string }[];
  alerts: { id: string; level: string }[];
}
interface Alert {
  id: string;
  kind: string;
  level: string;
  message: string;
  createdAt: string;
  patient: { id: string; firstName: string; lastName: string };
  /** Absent for alerts not raised by a measure (vital signs). */
  measure?: { instrument: Instrument; totalScore: number } | null;
}

const LIVE_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Offline, retrying…',
};

/**
 * The signed-in screen: my patients with their alert badges, the live alert feed, one patient open.
 * Returns the function that closes the open patient (its plan's live connection) on signing out.
 */
export async function renderBoard(root: HTMLElement, api: Api, signOut: () => void): Promise<() => void> {
  const { me } = await api.request<{ me: Me }>(ME);
  const live = h('span', { class: 'connection', 'data-state': 'connecting', role: 'status' });
  api.onConnection((state) => {
    live.dataset.state = state;
    live.textContent = LIVE_TEXT[state];
  });

  const patientList = h('ul', { class: 'patients' });
  const morePatients = h('button', { type: 'button', hidden: true }, 'Show more patients');
  const feed = h('ul', { class: 'alerts' });
  const feedEmpty = h('p', { class: 'quiet' }, 'No open alerts.');
  const main = h(
    'main',
    { id: 'main', class: 'patient' },
    h('p', { class: 'quiet' }, 'Choose a patient to see their scores, plan and timeline.'),
  );

  const rows = new Map<string, { row: PatientRow; button: HTMLButtonElement }>();
  /** Open (unacknowledged) alerts per patient, from the list and the feed. */
  const open = new Map<string, Map<string, string>>();
  const openFor = (patientId: string) =>
    open.get(patientId) ?? open.set(patientId, new Map()).get(patientId)!;
  let selected: string | undefined;
  let closePatient = () => {};

  const badge = (patientId: string) => {
    const alerts = [...(open.get(patientId)?.values() ?? [])];
    if (alerts.length === 0) return null;
    const critical = alerts.includes('CRITICAL');
    return h(
      'span',
      { class: `badge${critical ? ' critical' : ''}` },
      `${alerts.length} open alert${alerts.length === 1 ? '' : 's'}${critical ? ', critical' : ''}`,
    );
  };
  const renderRow = (row: PatientRow) => {
    const scores = row.latestMeasures
      .map(
        (m) => `${INSTRUMENTS[m.instrument]?.label ?? m.instrument} ${m.totalScore} (${words(m.severity)})`,
      )
      .join(' · ');
    const button =
      rows.get(row.id)?.button ??
      h('button', { type: 'button', class: 'patient-row', onclick: () => void select(row.id) });
    fill(
      button,
      h('span', { class: 'name' }, `${row.firstName} ${row.lastName}`),
      badge(row.id),
      h('span', { class: `status status-${row.status}` }, words(row.status)),
      h(
        'span',
        { class: 'team' },
        row.careTeam.map((m) => `${m.clinician.name} (${words(m.role)})`).join(', '),
      ),
      h('span', { class: 'scores' }, scores || 'No scores yet'),
    );
    button.setAttribute('aria-current', String(selected === row.id));
    rows.set(row.id, { row, button });
    return button;
  };

  let patientsCursor: string | null = null;
  const loadPatients = async (more: boolean) => {
    const { patients } = await api.request<{
      patients: {
        edges: { node: PatientRow }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    }>(PATIENTS, {
      after: more ? patientsCursor : null,
    });
    if (!more) {
      rows.clear();
      patientList.replaceChildren();
    }
    for (const { node } of patients.edges) {
      for (const alert of node.alerts) openFor(node.id).set(alert.id, alert.level);
      patientList.append(h('li', {}, renderRow(node)));
    }
    if (!more && patients.edges.length === 0)
      patientList.append(h('li', { class: 'quiet' }, 'No patients on your care teams yet.'));
    patientsCursor = patients.pageInfo.endCursor;
    morePatients.hidden = !patients.pageInfo.hasNextPage;
  };
  morePatients.addEventListener('click', () => void loadPatients(true));

  const refreshBadge = (patientId: string) => {
    const entry = rows.get(patientId);
    if (entry) renderRow(entry.row);
  };
  /** A new measure changes the row's latest scores. */
  const refreshRow = async (patientId: string) => {
    if (!rows.has(patientId)) return;
    const { patient } = await api.request<{ patient: PatientRow | null }>(PATIENT_ROW, { id: patientId });
    if (patient) renderRow(patient);
  };
  const alertItem = (alert: Alert) => {
    const acknowledge = h('button', { type: 'button', class: 'acknowledge' }, 'Acknowledge');
    const item = h(
      'li',
      { class: `alert level-${alert.level}`, 'data-alert-id': alert.id, 'data-level': alert.level },
      h('strong', { class: 'level' }, alert.level),
      ' ',
      h('span', { class: 'kind' }, words(alert.kind)),
      h(
        'p',
        {},
        h('span', { class: 'who' }, `${alert.patient.firstName} ${alert.patient.lastName}: `),
        alert.message,
      ),
      h(
        'p',
        { class: 'quiet' },
        h('time', { datetime: alert.createdAt }, formatDateTime(alert.createdAt)),
        alert.measure
          ? ` · ${INSTRUMENTS[alert.measure.instrument]?.label ?? alert.measure.instrument} ${alert.measure.totalScore}`
          : '',
      ),
      acknowledge,
    );
    acknowledge.setAttribute(
      'aria-label',
      `Acknowledge ${words(alert.kind)} alert for ${alert.patient.firstName} ${alert.patient.lastName}`,
    );
    acknowledge.addEventListener('click', async () => {
      acknowledge.disabled = true;
      try {
        await api.request(ACKNOWLEDGE, { id: alert.id });
        item.remove();
        open.get(alert.patient.id)?.delete(alert.id);
        refreshBadge(alert.patient.id);
        feedEmpty.hidden = feed.children.length > 0;
      } catch (error) {
        acknowledge.disabled = false;
        acknowledge.textContent = `Acknowledge (failed: ${(error as Error).message})`;
      }
    });
    return item;
  };
  const showAlert = (alert: Alert, fresh: boolean) => {
    if (feed.querySelector(`[data-alert-id="${CSS.escape(alert.id)}"]`)) return;
    const item = alertItem(alert);
    if (fresh) feed.prepend(item);
    else feed.append(item);
    feedEmpty.hidden = true;
    openFor(alert.patient.id).set(alert.id, alert.level);
    refreshBadge(alert.patient.id);
  };
  const loadAlerts = async () => {
    const { alerts } = await api.request<{ alerts: { edges: { node: Alert }[] } }>(OPEN_ALERTS);
    for (const { node } of alerts.edges) showAlert(node, false);
  };

  const select = async (patientId: string) => {
    closePatient();
    closePatient = () => {};
    selected = patientId;
    for (const { row } of rows.values()) renderRow(row);
    // Each opening gets its own element: one still loading when another patient is chosen is closed
    // as it arrives and never shows.
    const view = h('div', {}, h('p', { class: 'quiet' }, 'Loading…'));
    fill(main, view);
    try {
      const close = await mountPatient(view, api, me, patientId, () => void refreshRow(patientId));
      if (selected === patientId && main.contains(view)) closePatient = close;
      else close();
    } catch (error) {
      fill(
        view,
        h(
          'p',
          { class: 'problem', role: 'alert' },
          `Could not open the patient: ${(error as Error).message}`,
        ),
      );
    }
  };

  root.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('h1', {}, 'Care board'),
      h('p', { class: 'me' }, `Signed in as ${me.name} (${words(me.role)})`),
      h('p', { class: 'live' }, 'Alerts: ', live),
      h('button', { type: 'button', onclick: signOut }, 'Sign out'),
    ),
    h(
      'div',
      { class: 'layout' },
      h(
        'aside',
        {},
        h(
          'section',
          { 'aria-labelledby': 'patients-heading', class: 'card' },
          h('h2', { id: 'patients-heading' }, 'My patients'),
          patientList,
          morePatients,
        ),
        h(
          'section',
          { 'aria-labelledby': 'alerts-heading', class: 'card' },
          h('h2', { id: 'alerts-heading' }, 'Open alerts'),
          h('div', { 'aria-live': 'polite', 'aria-relevant': 'additions' }, feedEmpty, feed),
        ),
      ),
      main,
    ),
  );

  api.subscribe<{ scoreAlert: Alert }>(ALERTS_LIVE, {}, ({ scoreAlert }) => {
    showAlert(scoreAlert, true);
    void refreshRow(scoreAlert.patient.id);
  });
  // Alerts raised while the socket was down are caught up after each reconnect.
  let wasConnected = false;
  api.onConnection((state) => {
    if (state === 'connected' && wasConnected) void loadAlerts();
    if (state === 'connected') wasConnected = true;
  });
  await Promise.all([loadPatients(false), loadAlerts()]);
  return () => closePatient();
}

import { defaultKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { drawSelection, EditorView, keymap } from '@codemirror/view';
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next';
import * as authProtocol from 'y-protocols/auth';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { collabParams } from './collabAuth';
import { fill, h, words } from './dom';
import type { Api } from './graphql';

export interface PlanSection {
  key: string;
  editableBy: string[];
  canEdit: boolean;
}

export interface Plan {
  id: string;
  status: string;
  protocol: string;
  route: string;
  plannedDosingSessions: number;
  sections: PlanSection[];
}

const TITLES: Record<string, string> = {
  intentions: 'Intentions',
  preparation: 'Preparation',
  integration: 'Integration',
  medication: 'Medication',
  monitoring: 'Monitoring',
  safetyPlan: 'Safety plan',
  notes: 'Notes',
};
const title = (key: string) => TITLES[key] ?? key;

/** y-protocols message type of auth messages (the server's permission-denied). */
const MESSAGE_AUTH = 2;

interface Presence {
  user?: { id: string; name: string; role: string };
  section?: string | null;
}

declare global {
  interface Window {
    /** The open plan's live document, for the browser test and for a developer's console. */
    careBoard?: { planDoc: Y.Doc; provider: WebsocketProvider };
  }
}

/**
 * The treatment plan as a live document: one CodeMirror editor per section bound to its root Y.Text
 * (y-codemirror.next, which also draws the others' cursors), read-only where the signed-in role may
 * not change it. The server decides: a refused change comes back as a permission-denied message and
 * the server's own state, both shown here. Returns the function that closes it.
 */
export function mountPlan(
  container: HTMLElement,
  api: Api,
  me: { id: string; role: string },
  plan: Plan,
): () => void {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(
    `${window.location.origin.replace(/^http/, 'ws')}/collab`,
    plan.id,
    doc,
    {
      connect: false,
      // Every change goes through the server, which may refuse it: no tab-to-tab shortcut.
      disableBc: true,
    },
  );
  const awareness = provider.awareness;
  // A state nobody has set is never sent: set one field so the others see this clinician at once.
  awareness.setLocalStateField('section', null);
  window.careBoard = { planDoc: doc, provider };

  const connection = h(
    'span',
    { class: 'connection', 'data-state': 'connecting', role: 'status' },
    'Connecting…',
  );
  const refusal = h('p', { class: 'refusal', role: 'alert', hidden: true });
  const presence = h('ul', { class: 'presence', 'aria-label': 'Who is in this plan' });

  provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) => {
    authProtocol.readAuthMessage(decoder, doc, (_doc, reason) => {
      refusal.hidden = false;
      refusal.textContent = `The server refused your change and restored the plan: ${reason}.`;
    });
  };

  const showConnection = (state: string, text: string) => {
    connection.dataset.state = state;
    connection.textContent = text;
  };
  /** Set once the server closed for good (4400–4499): no later status may say it is reconnecting. */
  let ended = false;
  provider.on(
    'status',
    ({ status }) =>
      ended ||
      showConnection(
        status,
        status === 'connected'
          ? 'Connected'
          : status === 'connecting'
            ? 'Connecting…'
            : 'Disconnected, reconnecting…',
      ),
  );
  provider.on(
    'sync',
    (synced) => synced && showConnection('synced', 'Live: saved on the server as you type'),
  );

  // The live document's credentials are fetched for each connection (a ticket works once), so the
  // provider's own reconnect is replaced by one that asks for fresh ones first.
  let closed = false;
  let attempts = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = async () => {
    if (closed) return;
    try {
      provider.params = await collabParams(api, plan.id);
    } catch (error) {
      showConnection('closed', `Cannot open the plan: ${(error as Error).message}`);
      retry = setTimeout(connect, Math.min(100 * 2 ** ++attempts, 10_000));
      return;
    }
    if (!closed) provider.connect();
  };
  let refusedSinceSync = false;
  provider.on('sync', (synced) => synced && ((attempts = 0), (refusedSinceSync = false)));
  provider.on('connection-close', (event) => {
    provider.shouldConnect = false;
    if (closed) return;
    // A ticket refused once (spent or expired on the way) gets one fresh try; the sign-in itself is
    // checked when the ticket is asked for.
    const retryTicket = event?.code === 4401 && !refusedSinceSync;
    if (retryTicket) refusedSinceSync = true;
    if (event && event.code >= 4400 && event.code < 4500 && !retryTicket) {
      ended = true;
      const why: Record<number, string> = {
        4401: 'your sign-in was refused or expired',
        4403: 'you are not on this patient’s care team',
        4404: 'this plan no longer exists',
      };
      showConnection('closed', `Closed: ${why[event.code] ?? event.reason}`);
      return;
    }
    retry = setTimeout(connect, Math.min(100 * 2 ** ++attempts, 10_000));
  });

  const editors: EditorView[] = [];
  const sections = plan.sections.map((section) => {
    const headingId = `plan-${section.key}-heading`;
    const here = h('span', { class: 'here' });
    const who = section.editableBy.map((role) => words(role)).join(' and ');
    const parent = h('div', { class: 'editor' });
    const view = new EditorView({
      parent,
      state: EditorState.create({
        extensions: [
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          drawSelection(),
          EditorView.lineWrapping,
          yCollab(doc.getText(section.key), awareness),
          EditorState.readOnly.of(!section.canEdit),
          EditorView.contentAttributes.of({
            'aria-labelledby': headingId,
            'aria-multiline': 'true',
            'aria-readonly': String(!section.canEdit),
          }),
        ],
      }),
    });
    editors.push(view);
    const element = h(
      'section',
      { class: `plan-section${section.canEdit ? '' : ' read-only'}`, 'data-section': section.key },
      h('h4', { id: headingId }, title(section.key), here),
      h(
        'p',
        { class: 'who' },
        section.canEdit ? `You may edit this (${who}).` : `Read-only for you: the ${who} edits this.`,
      ),
      parent,
    );
    element.addEventListener('focusin', () => awareness.setLocalStateField('section', section.key));
    element.addEventListener('focusout', (event) => {
      if (!element.contains(event.relatedTarget as Node | null))
        awareness.setLocalStateField('section', null);
    });
    return { key: section.key, element, here };
  });

  const renderPresence = () => {
    const states = [...awareness.getStates().entries()] as [number, Presence][];
    // The server names everyone from their token, but does not echo this client's own state back.
    const people = states.filter(([clientId, state]) => clientId !== doc.clientID && state.user);
    const mine = awareness.getLocalState() as Presence | null;
    const where = (state: Presence) => (state.section ? ` in ${title(state.section)}` : ', reading');
    fill(
      presence,
      h('li', { 'data-user': me.id }, `You (${words(me.role)})`, where(mine ?? {})),
      ...people.map(([, state]) =>
        h(
          'li',
          { 'data-user': state.user!.id },
          `${state.user!.name} (${words(state.user!.role)})`,
          where(state),
        ),
      ),
    );
    for (const section of sections) {
      const names = people
        .filter(([clientId, state]) => clientId !== doc.clientID && state.section === section.key)
        .map(([, state]) => state.user!.name);
      section.here.textContent = names.length ? ` · ${names.join(', ')} here` : '';
    }
  };
  awareness.on('change', renderPresence);
  renderPresence();

  fill(
    container,
    h(
      'div',
      { class: 'plan-head' },
      h(
        'p',
        {},
        `${words(plan.protocol)} protocol, ${plan.route.replace(/_/g, ' ')}, ${plan.plannedDosingSessions} dosing sessions planned · ${words(plan.status)}`,
      ),
      h('p', { class: 'plan-connection' }, 'Plan document: ', connection),
    ),
    h('div', { class: 'presence-box' }, h('h4', {}, 'Here now'), presence),
    refusal,
    h('div', { class: 'plan-sections' }, ...sections.map((s) => s.element)),
  );
  void connect();

  return () => {
    closed = true;
    clearTimeout(retry);
    for (const view of editors) view.destroy();
    provider.destroy();
    doc.destroy();
    if (window.careBoard?.planDoc === doc) delete window.careBoard;
  };
}

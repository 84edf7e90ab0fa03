import { demoClinicians } from './session';
import { h, uid, words } from './dom';

/** The sign-in screen: a demo clinician picker where the server seeded demo data, else a pasted token. */
export async function renderSignIn(
  root: HTMLElement,
  onToken: (token: string) => void,
  problem?: string,
): Promise<void> {
  const demo = await demoClinicians();
  const tokenId = uid('token');
  const message = h('p', { class: 'problem', role: 'alert' }, problem ?? '');
  const pasted = h('textarea', {
    id: tokenId,
    name: 'token',
    rows: 4,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = pasted.value.trim().replace(/^Bearer\s+/i, '');
        if (token) onToken(token);
      },
    },
    h('h2', {}, demo.length ? 'Or paste a token' : 'Paste a token'),
    h('label', { for: tokenId }, 'Bearer token (JWT) from your identity provider'),
    pasted,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  const picker =
    demo.length > 0 &&
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'demo-heading' },
      h('h2', { id: 'demo-heading' }, 'Sign in as a demo clinician'),
      h('p', {}, 'This server seeded demo data: pick who you are. Open a second window to be the other one.'),
      h(
        'ul',
        { class: 'demo-clinicians' },
        ...demo.map((clinician) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', 'data-role': clinician.role, onclick: () => onToken(clinician.token) },
              `${clinician.name}`,
              h('span', { class: 'role' }, words(clinician.role)),
            ),
          ),
        ),
      ),
    );
  root.replaceChildren(
    h(
      'main',
      { id: 'main', class: 'sign-in' },
      h('h1', {}, 'Care board'),
      h(
        'p',
        { class: 'lede' },
        'Score alerts, outcome measures and the shared treatment plan of your patients.',
      ),
      message,
      picker,
      form,
    ),
  );
}

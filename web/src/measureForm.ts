import { INSTRUMENTS, Instrument } from '../../src/domain/instruments';
import { fill, h, uid, words } from './dom';
import type { Api } from './graphql';
import { ANSWERS, ITEM_TEXT } from './instrumentItems';
import { RECORD_MEASURE } from './operations';

interface Recorded {
  recordMeasure: {
    id: string;
    instrument: Instrument;
    totalScore: number;
    severity: string;
    alerts: { level: string; message: string }[];
  };
}

/**
 * Records a PHQ-9, GAD-7 or PCL-5 item by item; the server scores it and raises the alerts. The plots
 * and timeline follow from the measureRecorded subscription, as they do for a measure recorded elsewhere.
 */
export function measureForm(api: Api, patientId: string): HTMLElement {
  const instrumentId = uid('instrument');
  const choose = h(
    'select',
    { id: instrumentId, name: 'instrument' },
    ...Object.values(Instrument).map((instrument) =>
      h('option', { value: instrument }, INSTRUMENTS[instrument].label),
    ),
  );
  const items = h('div', { class: 'items' });
  const status = h('p', { class: 'result', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Record');

  const renderItems = () => {
    const instrument = choose.value as Instrument;
    fill(
      items,
      ...ITEM_TEXT[instrument].map((text, index) => {
        const id = `item-${index + 1}`;
        return h(
          'div',
          { class: 'item' },
          h('label', { for: `${instrumentId}-${id}` }, `${index + 1}. ${text}`),
          h(
            'select',
            { id: `${instrumentId}-${id}`, name: id, required: true, 'data-item': index + 1 },
            h('option', { value: '' }, 'Choose…'),
            ...ANSWERS[instrument].map((answer, value) => h('option', { value }, `${value} · ${answer}`)),
          ),
        );
      }),
    );
  };
  choose.addEventListener('change', renderItems);
  renderItems();

  const form = h(
    'form',
    {
      class: 'measure-form',
      'aria-labelledby': `${instrumentId}-heading`,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const instrument = choose.value as Instrument;
        const responses = [...items.querySelectorAll('select')].map((select) => Number(select.value));
        submit.disabled = true;
        status.textContent = 'Recording…';
        try {
          const { recordMeasure: measure } = await api.request<Recorded>(RECORD_MEASURE, {
            input: { patientId, instrument, responses },
          });
          const alerts = measure.alerts.map((a) => `${a.level}: ${a.message}`).join(' ');
          status.textContent = `Recorded ${INSTRUMENTS[instrument].label}: total ${measure.totalScore}, ${words(measure.severity)}.${alerts ? ' ' + alerts : ''}`;
          renderItems();
        } catch (error) {
          status.textContent = `Not recorded: ${(error as Error).message}`;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h3', { id: `${instrumentId}-heading` }, 'Record a measure'),
    h('div', { class: 'item' }, h('label', { for: instrumentId }, 'Instrument'), choose),
    items,
    submit,
    status,
  );
  return form;
}

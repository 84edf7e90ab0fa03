import { INSTRUMENTS, type Instrument } from '../../src/domain/instruments';
import { formatDateTime, h, svg, words } from './dom';

export interface ChartMeasure {
  id: string;
  instrument: Instrument;
  totalScore: number;
  severity: string;
  administeredAt: string;
}

const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 150, bottom: 28, left: 36 };

/**
 * One instrument's totals over time as an SVG plot: the severity bands (the same table the server
 * scores with) drawn behind, a point per measure, a line through them in time order.
 */
export function instrumentChart(instrument: Instrument, measures: readonly ChartMeasure[]): HTMLElement {
  const spec = INSTRUMENTS[instrument];
  const max = spec.bands[spec.bands.length - 1][0];
  const sorted = [...measures].sort((a, b) => Date.parse(a.administeredAt) - Date.parse(b.administeredAt));
  const times = sorted.map((m) => Date.parse(m.administeredAt));
  const [first, last] = [Math.min(...times), Math.max(...times)];
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number) =>
    MARGIN.left + (last === first ? plotWidth / 2 : ((t - first) / (last - first)) * plotWidth);
  const y = (total: number) => MARGIN.top + plotHeight - (total / max) * plotHeight;

  const bands = spec.bands.map(([upTo, band], index) => {
    const from = index === 0 ? 0 : spec.bands[index - 1][0] + 1;
    const top = y(upTo + (index === spec.bands.length - 1 ? 0 : 0.5));
    const bottom = y(index === 0 ? 0 : from - 0.5);
    return svg(
      'g',
      { class: `band band-${band}` },
      svg('rect', { x: MARGIN.left, y: top, width: plotWidth, height: Math.max(0, bottom - top) }),
      svg(
        'text',
        {
          x: WIDTH - MARGIN.right + 6,
          y: (top + bottom) / 2,
          'dominant-baseline': 'middle',
          class: 'band-label',
        },
        `${words(band)} ${from}–${upTo}`,
      ),
    );
  });
  const ticks = [0, Math.round(max / 2), max].map((total) =>
    svg(
      'text',
      { x: MARGIN.left - 6, y: y(total), 'text-anchor': 'end', 'dominant-baseline': 'middle', class: 'tick' },
      String(total),
    ),
  );
  const dates =
    sorted.length > 0
      ? [
          svg(
            'text',
            { x: x(first), y: HEIGHT - 8, 'text-anchor': first === last ? 'middle' : 'start', class: 'tick' },
            formatDateTime(sorted[0].administeredAt),
          ),
        ]
      : [];
  if (sorted.length > 1)
    dates.push(
      svg(
        'text',
        { x: x(last), y: HEIGHT - 8, 'text-anchor': 'end', class: 'tick' },
        formatDateTime(sorted[sorted.length - 1].administeredAt),
      ),
    );
  const line = svg('polyline', {
    class: 'trend',
    points: sorted.map((m, i) => `${x(times[i])},${y(m.totalScore)}`).join(' '),
  });
  const points = sorted.map((m, i) =>
    svg(
      'circle',
      {
        class: `point band-${m.severity}`,
        cx: x(times[i]),
        cy: y(m.totalScore),
        r: 5,
        'data-measure-id': m.id,
      },
      svg('title', {}, `${m.totalScore} (${words(m.severity)}), ${formatDateTime(m.administeredAt)}`),
    ),
  );
  const latest = sorted[sorted.length - 1];
  const summary = latest
    ? `${spec.label} totals over time: ${sorted.length} measure${sorted.length === 1 ? '' : 's'}, latest ${latest.totalScore} (${words(latest.severity)}), from ${sorted.map((m) => m.totalScore).join(', ')}`
    : `${spec.label}: none recorded`;
  const plot = svg(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-label': summary,
      class: 'chart',
      'data-instrument': instrument,
    },
    ...bands,
    svg('line', {
      class: 'axis',
      x1: MARGIN.left,
      y1: MARGIN.top + plotHeight,
      x2: MARGIN.left + plotWidth,
      y2: MARGIN.top + plotHeight,
    }),
    ...ticks,
    ...dates,
    line,
    ...points,
  );
  return h('figure', { class: 'chart-figure' }, h('figcaption', {}, spec.label), plot);
}

import { describe, expect, it } from 'vitest';
import {
  Instrument,
  SeverityBand,
  responsesRefusal,
  scoreMeasure,
  severityOf,
} from '../../src/domain/instruments';

/** Responses of `items` items adding up to `total`, each at most `max`. */
function responsesFor(items: number, max: number, total: number): number[] {
  return Array.from({ length: items }, (_, i) => Math.max(0, Math.min(max, total - i * max)));
}

describe('severity bands: every boundary', () => {
  it.each<[Instrument, number, SeverityBand]>([
    [Instrument.PHQ9, 0, SeverityBand.MINIMAL],
    [Instrument.PHQ9, 4, SeverityBand.MINIMAL],
    [Instrument.PHQ9, 5, SeverityBand.MILD],
    [Instrument.PHQ9, 9, SeverityBand.MILD],
    [Instrument.PHQ9, 10, SeverityBand.MODERATE],
    [Instrument.PHQ9, 14, SeverityBand.MODERATE],
    [Instrument.PHQ9, 15, SeverityBand.MODERATELY_SEVERE],
    [Instrument.PHQ9, 19, SeverityBand.MODERATELY_SEVERE],
    [Instrument.PHQ9, 20, SeverityBand.SEVERE],
    [Instrument.PHQ9, 27, SeverityBand.SEVERE],
    [Instrument.GAD7, 0, SeverityBand.MINIMAL],
    [Instrument.GAD7, 4, SeverityBand.MINIMAL],
    [Instrument.GAD7, 5, SeverityBand.MILD],
    [Instrument.GAD7, 9, SeverityBand.MILD],
    [Instrument.GAD7, 10, SeverityBand.MODERATE],
    [Instrument.GAD7, 14, SeverityBand.MODERATE],
    [Instrument.GAD7, 15, SeverityBand.SEVERE],
    [Instrument.GAD7, 21, SeverityBand.SEVERE],
    [Instrument.PCL5, 0, SeverityBand.BELOW_CUTOFF],
    [Instrument.PCL5, 32, SeverityBand.BELOW_CUTOFF],
    [Instrument.PCL5, 33, SeverityBand.PROBABLE_PTSD],
    [Instrument.PCL5, 80, SeverityBand.PROBABLE_PTSD],
  ])('%s total %i is %s', (instrument, total, band) => {
    expect(severityOf(instrument, total)).toBe(band);
    const [items, max] = { PHQ9: [9, 3], GAD7: [7, 3], PCL5: [20, 4] }[instrument];
    expect(scoreMeasure(instrument, responsesFor(items, max, total))).toEqual({ total, severity: band });
  });
});

describe('responsesRefusal refuses bad responses, naming the item', () => {
  it.each<[Instrument, unknown[], string]>([
    [Instrument.PHQ9, [0, 0, 0, 0, 0, 0, 0, 0], 'PHQ-9 has 9 items; got 8 responses'],
    [Instrument.PHQ9, Array(10).fill(0), 'PHQ-9 has 9 items; got 10 responses'],
    [Instrument.GAD7, [0, 0, 4, 0, 0, 0, 0], 'GAD-7 item 3 must be a whole number from 0 to 3'],
    [Instrument.GAD7, [0, -1, 0, 0, 0, 0, 0], 'GAD-7 item 2 must be'],
    [Instrument.PHQ9, [0, 0, 0, 0, 0, 0, 0, 0, 1.5], 'PHQ-9 item 9 must be a whole number'],
    [Instrument.PCL5, [...Array(19).fill(4), 5], 'PCL-5 item 20 must be a whole number from 0 to 4'],
    [Instrument.PCL5, [...Array(19).fill(0), '1'], 'PCL-5 item 20'],
    [Instrument.PCL5, Array(9).fill(0), 'PCL-5 has 20 items'],
  ])('%s %j', (instrument, responses, message) => {
    expect(responsesRefusal(instrument, responses)).toContain(message);
  });
  it.each(Object.values(Instrument))('accepts %s responses in range', (instrument) => {
    const items = { PHQ9: 9, GAD7: 7, PCL5: 20 }[instrument];
    expect(responsesRefusal(instrument, Array(items).fill(1))).toBeUndefined();
  });
});

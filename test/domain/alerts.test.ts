import { describe, expect, it } from 'vitest';
import {
  AlertKind,
  AlertLevel,
  changeFromBaseline,
  decideAlerts,
  type MeasureFacts,
} from '../../src/domain/alerts';
import { Instrument, severityOf } from '../../src/domain/instruments';

const none = new Set<AlertKind>();

/** Facts for a measure with the given total; item 9 of PHQ-9 is 0 unless given. */
function facts(
  instrument: Instrument,
  total: number,
  history: Partial<MeasureFacts> = {},
  item9 = 0,
): MeasureFacts {
  const items = { PHQ9: 9, GAD7: 7, PCL5: 20 }[instrument];
  const responses = Array(items).fill(0);
  if (instrument === Instrument.PHQ9) responses[8] = item9;
  return {
    instrument,
    responses,
    total,
    severity: severityOf(instrument, total),
    alreadyRaised: none,
    ...history,
  };
}
const kinds = (f: MeasureFacts) => decideAlerts(f).map((a) => a.kind);

describe('SUICIDAL_IDEATION (CRITICAL): PHQ-9 item 9 ≥ 1, every time', () => {
  it.each([
    [0, []],
    [1, [AlertKind.SUICIDAL_IDEATION]],
    [3, [AlertKind.SUICIDAL_IDEATION]],
  ])('item 9 = %i', (item9, expected) => {
    expect(kinds(facts(Instrument.PHQ9, 3, {}, item9))).toEqual(expected);
  });
  it('is CRITICAL and raised again on the next such measure', () => {
    const [alert] = decideAlerts(
      facts(Instrument.PHQ9, 3, { alreadyRaised: new Set([AlertKind.SUICIDAL_IDEATION]) }, 1),
    );
    expect(alert).toMatchObject({ kind: AlertKind.SUICIDAL_IDEATION, level: AlertLevel.CRITICAL });
  });
  it('has no item 9 on the other instruments', () => {
    const gad = facts(Instrument.GAD7, 1);
    expect(kinds({ ...gad, responses: [0, 0, 0, 0, 0, 0, 1] })).toEqual([]);
  });
});

describe('SEVERE_SYMPTOMS (WARNING): band SEVERE', () => {
  it.each<[Instrument, number, boolean]>([
    [Instrument.PHQ9, 19, false],
    [Instrument.PHQ9, 20, true],
    [Instrument.GAD7, 14, false],
    [Instrument.GAD7, 15, true],
    [Instrument.PCL5, 80, false],
  ])('%s total %i → %s', (instrument, total, raised) => {
    expect(kinds(facts(instrument, total)).includes(AlertKind.SEVERE_SYMPTOMS)).toBe(raised);
  });
});

describe('WORSENING (WARNING): rise from the previous total of at least the threshold', () => {
  it.each<[Instrument, number, number, boolean]>([
    [Instrument.PHQ9, 5, 9, false],
    [Instrument.PHQ9, 5, 10, true],
    [Instrument.GAD7, 5, 8, false],
    [Instrument.GAD7, 5, 9, true],
    [Instrument.PCL5, 20, 29, false],
    [Instrument.PCL5, 20, 30, true],
  ])('%s %i → %i: %s', (instrument, previousTotal, total, raised) => {
    const result = decideAlerts(facts(instrument, total, { previousTotal, baselineTotal: previousTotal }));
    expect(result.some((a) => a.kind === AlertKind.WORSENING && a.level === AlertLevel.WARNING)).toBe(raised);
  });
  it('needs a previous measure', () => {
    expect(kinds(facts(Instrument.PHQ9, 14))).toEqual([]);
  });
});

describe('RESPONSE (INFO): clinical baseline and total at most half of it, once', () => {
  it.each<[Instrument, number, number, boolean]>([
    [Instrument.PHQ9, 10, 5, true], // exactly 50%, baseline exactly 10
    [Instrument.PHQ9, 10, 6, false],
    [Instrument.PHQ9, 9, 4, false], // baseline below 10
    [Instrument.PHQ9, 15, 7, true], // 7 ≤ 7.5
    [Instrument.PHQ9, 15, 8, false],
    [Instrument.GAD7, 10, 5, true],
    [Instrument.GAD7, 12, 7, false],
    [Instrument.PCL5, 33, 16, true], // 16 ≤ 16.5
    [Instrument.PCL5, 33, 17, false],
    [Instrument.PCL5, 32, 10, false],
  ])('%s baseline %i, total %i: %s', (instrument, baselineTotal, total, raised) => {
    const result = kinds(facts(instrument, total, { baselineTotal, previousTotal: baselineTotal }));
    expect(result.includes(AlertKind.RESPONSE)).toBe(raised);
  });
  it('is raised once per patient and instrument', () => {
    const again = facts(Instrument.PHQ9, 4, {
      baselineTotal: 20,
      previousTotal: 6,
      alreadyRaised: new Set([AlertKind.RESPONSE]),
    });
    expect(kinds(again)).toEqual([AlertKind.REMISSION]);
  });
  it('is never raised by the baseline itself', () => {
    expect(kinds(facts(Instrument.PHQ9, 2))).toEqual([]);
  });
});

describe('REMISSION (INFO): clinical baseline and total below the cut-off, once', () => {
  it.each<[Instrument, number, number, boolean]>([
    [Instrument.PHQ9, 10, 4, true],
    [Instrument.PHQ9, 10, 5, false],
    [Instrument.PHQ9, 9, 0, false],
    [Instrument.GAD7, 10, 4, true],
    [Instrument.GAD7, 10, 5, false],
    [Instrument.PCL5, 33, 32, true],
    [Instrument.PCL5, 33, 33, false],
    [Instrument.PCL5, 32, 0, false],
  ])('%s baseline %i, total %i: %s', (instrument, baselineTotal, total, raised) => {
    expect(kinds(facts(instrument, total, { baselineTotal })).includes(AlertKind.REMISSION)).toBe(raised);
  });
  it('is raised once', () => {
    expect(
      kinds(
        facts(Instrument.GAD7, 0, {
          baselineTotal: 12,
          alreadyRaised: new Set([AlertKind.RESPONSE, AlertKind.REMISSION]),
        }),
      ),
    ).toEqual([]);
  });
});

describe('RELAPSE (WARNING): after a REMISSION this course, a total back at or above the clinical baseline, once', () => {
  const remitted = new Set([AlertKind.RESPONSE, AlertKind.REMISSION]);
  it.each<[Instrument, number, ReadonlySet<AlertKind>, boolean]>([
    [Instrument.PHQ9, 9, remitted, false],
    [Instrument.PHQ9, 10, remitted, true],
    [Instrument.GAD7, 10, remitted, true],
    [Instrument.GAD7, 9, remitted, false],
    [Instrument.PCL5, 32, remitted, false],
    [Instrument.PCL5, 33, remitted, true],
    [Instrument.PHQ9, 20, new Set([AlertKind.RESPONSE]), false],
    [Instrument.PHQ9, 20, none, false],
    [Instrument.PHQ9, 20, new Set([AlertKind.REMISSION, AlertKind.RELAPSE]), false],
  ])('%s total %i after %j: %s', (instrument, total, raised, expected) => {
    const found = decideAlerts(
      facts(instrument, total, { baselineTotal: 40, previousTotal: total, alreadyRaised: raised }),
    ).find((a) => a.kind === AlertKind.RELAPSE);
    expect(found !== undefined).toBe(expected);
    if (found) expect(found.level).toBe(AlertLevel.WARNING);
  });
});

describe('several alerts from one measure', () => {
  it('PHQ-9 of 27 with item 9 answered, after 15: critical, severe and worsening', () => {
    expect(kinds(facts(Instrument.PHQ9, 27, { previousTotal: 15, baselineTotal: 15 }, 3))).toEqual([
      AlertKind.SUICIDAL_IDEATION,
      AlertKind.SEVERE_SYMPTOMS,
      AlertKind.WORSENING,
    ]);
  });
});

describe('changeFromBaseline', () => {
  it.each([
    [12, undefined, 0],
    [12, 20, -8],
    [25, 20, 5],
  ])('total %i, baseline %s → %i', (total, baseline, change) => {
    expect(changeFromBaseline(total, baseline)).toBe(change);
  });
});

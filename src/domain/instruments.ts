/** Validated self-report scales (CLINICAL.md, "Instruments"). */
export enum Instrument {
  PHQ9 = 'PHQ9',
  GAD7 = 'GAD7',
  PCL5 = 'PCL5',
}

export enum SeverityBand {
  MINIMAL = 'MINIMAL',
  MILD = 'MILD',
  MODERATE = 'MODERATE',
  MODERATELY_SEVERE = 'MODERATELY_SEVERE',
  SEVERE = 'SEVERE',
  BELOW_CUTOFF = 'BELOW_CUTOFF',
  PROBABLE_PTSD = 'PROBABLE_PTSD',
}

export interface InstrumentSpec {
  label: string;
  items: number;
  maxItem: number;
  /** Highest total of each band, in ascending order; the last covers the maximum total. */
  bands: readonly (readonly [upTo: number, band: SeverityBand])[];
  /** A rise from the previous total of at least this much is WORSENING. */
  worseningRise: number;
  /** RESPONSE and REMISSION only count from a baseline at least this high. */
  clinicalBaseline: number;
  /** A total below this, from a clinical baseline, is REMISSION. */
  remissionBelow: number;
  loinc: { panel: string; total: string };
}

export const INSTRUMENTS: Readonly<Record<Instrument, InstrumentSpec>> = {
  [Instrument.PHQ9]: {
    label: 'PHQ-9',
    items: 9,
    maxItem: 3,
    bands: [
      [4, SeverityBand.MINIMAL],
      [9, SeverityBand.MILD],
      [14, SeverityBand.MODERATE],
      [19, SeverityBand.MODERATELY_SEVERE],
      [27, SeverityBand.SEVERE],
    ],
    worseningRise: 5,
    clinicalBaseline: 10,
    remissionBelow: 5,
    loinc: { panel: '44249-1', total: '44261-6' },
  },
  [Instrument.GAD7]: {
    label: 'GAD-7',
    items: 7,
    maxItem: 3,
    bands: [
      [4, SeverityBand.MINIMAL],
      [9, SeverityBand.MILD],
      [14, SeverityBand.MODERATE],
      [21, SeverityBand.SEVERE],
    ],
    worseningRise: 4,
    clinicalBaseline: 10,
    remissionBelow: 5,
    loinc: { panel: '69737-5', total: '70274-6' },
  },
  [Instrument.PCL5]: {
    label: 'PCL-5',
    items: 20,
    maxItem: 4,
    bands: [
      [32, SeverityBand.BELOW_CUTOFF],
      [80, SeverityBand.PROBABLE_PTSD],
    ],
    worseningRise: 10,
    clinicalBaseline: 33,
    remissionBelow: 33,
    loinc: { panel: '101697-1', total: '101698-9' },
  },
};

/** PHQ-9 item 9 ("thoughts that you would be better off dead or of hurting yourself"), LOINC 44260-8. */
export const PHQ9_ITEM9_INDEX = 8;

export interface Score {
  total: number;
  severity: SeverityBand;
}

/**
 * Why responses given in item order cannot be scored; undefined when they can. Anything but the
 * right number of whole numbers in range is refused, naming the first offending item (1-based, as
 * printed on the form).
 */
export function responsesRefusal(instrument: Instrument, responses: readonly unknown[]): string | undefined {
  const spec = INSTRUMENTS[instrument];
  if (responses.length !== spec.items)
    return `${spec.label} has ${spec.items} items; got ${responses.length} responses`;
  const bad = responses.findIndex(
    (value) => typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > spec.maxItem,
  );
  if (bad >= 0) return `${spec.label} item ${bad + 1} must be a whole number from 0 to ${spec.maxItem}`;
  return undefined;
}

/** Scores responses `responsesRefusal` accepted. */
export function scoreMeasure(instrument: Instrument, responses: readonly number[]): Score {
  const total = responses.reduce((sum, value) => sum + value, 0);
  return { total, severity: severityOf(instrument, total) };
}

export function severityOf(instrument: Instrument, total: number): SeverityBand {
  const band = INSTRUMENTS[instrument].bands.find(([upTo]) => total <= upTo);
  if (!band) throw new RangeError(`${instrument} total ${total} is out of range`);
  return band[1];
}

import { describe, expect, it } from 'vitest';
import { happenedAtRefusal, scheduledAtRefusal } from '../../src/domain/clinicalTime';
import { textRefusal, type TextKind } from '../../src/domain/text';
import { DAY, fromNow } from '../support/time';

describe('what text the record accepts (src/domain/text.ts)', () => {
  const table: [string, string, TextKind, boolean][] = [
    ['plain', 'Morgan', 'line', true],
    ['accents, CJK, emoji with joiners', 'Zoë 中村 👩‍⚕️', 'line', true],
    ['NUL', 'Mor\u0000gan', 'line', false],
    ['NUL in free text', 'a\u0000b', 'freeText', false],
    ['newline in a line', 'a\nb', 'line', false],
    ['tab in a line', 'a\tb', 'line', false],
    ['newline, CR and tab in free text', 'line one\r\nline two\tindented', 'freeText', true],
    ['escape', 'a\u001b[31mred', 'freeText', false],
    ['vertical tab', 'a\u000bb', 'freeText', false],
    ['form feed', 'a\u000cb', 'freeText', false],
    ['DEL', 'a\u007fb', 'freeText', false],
    ['C1 (NEL)', 'a\u0085b', 'freeText', false],
    ['lone high surrogate', 'a\ud800b', 'line', false],
    ['lone low surrogate at the end', 'a\udc00', 'freeText', false],
    ['a pair', '\ud83d\ude00', 'line', true],
    ['empty', '', 'line', true],
  ];
  it.each(table)('%s (%j as %s): accepted %s', (_name, text, kind, accepted) => {
    expect(textRefusal(text, kind) === undefined).toBe(accepted);
  });

  it('names the character and where it is', () => {
    expect(textRefusal('ab\u0000', 'line')).toBe(
      'contains the control character U+0000 at position 2; text takes no control characters',
    );
    expect(textRefusal('\ud800', 'freeText')).toBe('contains an unpaired surrogate (U+D800) at position 0');
  });
});

describe('when things in the record happened (src/domain/clinicalTime.ts)', () => {
  const now = new Date();
  const table: [string, Date, string | undefined, string | undefined][] = [
    ['now', now, undefined, undefined],
    ['a year ago', fromNow(-365 * DAY), '1980-01-01', undefined],
    ['30 s ahead (a clock a little fast)', fromNow(30_000), undefined, undefined],
    ['an hour ahead', fromNow(3_600_000), undefined, 'administeredAt cannot be in the future'],
    [
      '1 January 1900',
      new Date('1900-01-01T00:00:00Z'),
      '1984-04-04',
      "administeredAt cannot be before the patient's date of birth",
    ],
    ['1899', new Date('1899-12-31T23:59:59Z'), undefined, 'administeredAt cannot be before 1900-01-01'],
    [
      'the day before birth',
      new Date('1984-04-03T12:00:00Z'),
      '1984-04-04',
      "administeredAt cannot be before the patient's date of birth",
    ],
    ['the day of birth', new Date('1984-04-04T12:00:00Z'), '1984-04-04', undefined],
  ];
  it.each(table)('happened %s', (_name, at, bornOn, refusal) => {
    expect(happenedAtRefusal('administeredAt', at, { now, bornOn })).toBe(refusal);
  });

  const scheduled: [string, Date, string | undefined][] = [
    ['next week', fromNow(7 * DAY), undefined],
    ['yesterday (entered late)', fromNow(-DAY), undefined],
    ['in 700 days', fromNow(700 * DAY), undefined],
    ['in three years', fromNow(3 * 366 * DAY), 'scheduledAt must be within two years from now'],
    ['1899', new Date('1899-06-01T10:00:00Z'), 'scheduledAt cannot be before 1900-01-01'],
  ];
  it.each(scheduled)('scheduled %s', (_name, at, refusal) => {
    expect(scheduledAtRefusal('scheduledAt', at, { now })).toBe(refusal);
  });
});

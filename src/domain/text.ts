/**
 * What the record accepts as text. A control character (NUL, escape, backspace, the C1 block) or a
 * lone UTF-16 surrogate is never clinical content: PostgreSQL refuses NUL outright, a terminal or log
 * viewer obeys the others, and a surrogate without its pair is silently replaced on the way to the
 * database. Free-form text (a note, a plan section, a reason) keeps its line breaks and tabs; a name,
 * an address, a lot number is one line.
 */
export type TextKind = 'line' | 'freeText';

const LINE =
  // eslint-disable-next-line no-control-regex -- control characters are what these refuse
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const FREE_TEXT =
  // eslint-disable-next-line no-control-regex -- control characters are what these refuse
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored as `kind`, or undefined when it can. */
export function textRefusal(text: string, kind: TextKind): string | undefined {
  const found = (kind === 'line' ? LINE : FREE_TEXT).exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0);
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code >= 0xd800 && code <= 0xdfff)
    return `contains an unpaired surrogate (${name}) at position ${found.index}`;
  const allowed =
    kind === 'line' ? 'no control characters' : 'no control characters other than line breaks and tabs';
  return `contains the control character ${name} at position ${found.index}; text takes ${allowed}`;
}

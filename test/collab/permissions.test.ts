import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { analyseUpdate, refusalOf } from '../../src/collab/permissions';
import { neutralisedUpdate, restoreDeleted, senderRevert } from '../../src/collab/refusal';
import { PLAN_SECTIONS } from '../../src/domain/plans';
import { Role } from '../../src/domain/roles';

/** A server document and a client replica in sync with it, both holding some text in two sections. */
function setup() {
  const server = new Y.Doc();
  for (const { key } of PLAN_SECTIONS) server.getText(key);
  const author = new Y.Doc();
  author.getText('medication').insert(0, 'Ketamine');
  author.getText('integration').insert(0, 'Journal');
  Y.applyUpdate(server, Y.encodeStateAsUpdate(author));
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  return { server, client };
}

/** The update `change` makes on the client. */
function updateOf(client: Y.Doc, change: () => void): Uint8Array {
  let update: Uint8Array | undefined;
  const listen = (u: Uint8Array) => (update = update ? Y.mergeUpdates([update, u]) : u);
  client.on('update', listen);
  change();
  client.off('update', listen);
  return update!;
}

describe('which roots an update touches, resolved against the document', () => {
  const cases: [string, (c: Y.Doc) => void, string[]][] = [
    ['insert at the start of a section (parent named)', (c) => c.getText('notes').insert(0, 'x'), ['notes']],
    ['insert after existing text (parent from the left origin)', (c) => c.getText('medication').insert(8, ' IM'), ['medication']],
    ['insert before existing text (parent from the right origin)', (c) => c.getText('integration').insert(0, 'Daily: '), ['integration']],
    ['insert building on its own earlier insert', (c) => c.transact(() => { c.getText('integration').insert(7, ' a'); c.getText('integration').insert(9, 'b'); }), ['integration']],
    ['delete inside a section', (c) => c.getText('medication').delete(0, 3), ['medication']],
    ['two sections in one update', (c) => c.transact(() => { c.getText('integration').insert(0, 'a'); c.getText('medication').insert(0, 'b'); }), ['integration', 'medication']],
    ['a root that is not a section', (c) => c.getMap('side').set('k', 'v'), ['side']],
    ['a nested type inside a section', (c) => { const m = new Y.Map(); c.getText('notes').insertEmbed(0, m); m.set('k', 'v'); }, ['notes']],
    ['formatting a section', (c) => c.getText('medication').format(0, 3, { bold: true }), ['medication']],
  ];
  it.each(cases)('%s', (_name, change, roots) => {
    const { server, client } = setup();
    const effect = analyseUpdate(server, updateOf(client, () => change(client)));
    expect(effect.unresolved).toBe(false);
    expect([...effect.roots].sort()).toEqual(roots);
  });

  it('ignores what the document already has: a full sync from an up-to-date client touches nothing', () => {
    const { server, client } = setup();
    const deleting = new Y.Doc();
    Y.applyUpdate(deleting, Y.encodeStateAsUpdate(server));
    Y.applyUpdate(server, updateOf(deleting, () => deleting.getText('medication').delete(0, 3)));
    Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
    const effect = analyseUpdate(server, Y.encodeStateAsUpdate(client));
    expect(effect.roots.size).toBe(0);
    expect(effect.fresh).toHaveLength(0);
    expect(effect.deletes).toHaveLength(0);
  });

  it('marks an update that builds on content the document lacks as unresolved', () => {
    const { server, client } = setup();
    updateOf(client, () => client.getText('notes').insert(0, 'first'));
    const second = updateOf(client, () => client.getText('notes').insert(5, ' second'));
    const effect = analyseUpdate(server, second);
    expect(effect.unresolved).toBe(true);
    expect(refusalOf(Role.THERAPIST, effect)).toMatch(/does not have/);
  });

  const roles: [string, Role, string | undefined][] = [
    ['medication', Role.PRESCRIBER, undefined],
    ['medication', Role.THERAPIST, '"medication"'],
    ['integration', Role.THERAPIST, undefined],
    ['integration', Role.PRESCRIBER, '"integration"'],
    ['notes', Role.THERAPIST, undefined],
  ];
  it.each(roles)('a change to %s by %s is refused naming %s', (key, role, named) => {
    const { server, client } = setup();
    const refusal = refusalOf(role, analyseUpdate(server, updateOf(client, () => client.getText(key).insert(0, 'x'))));
    if (named === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toContain(named);
  });
});

describe('what happens to a refused update', () => {
  it('reaches the document only emptied, the sender deletes it, and later edits next to it still land', () => {
    const { server, client } = setup();
    const refused = updateOf(client, () => client.getText('medication').insert(8, ' SECRET-TEXT'));
    const effect = analyseUpdate(server, refused);
    Y.applyUpdate(server, neutralisedUpdate(effect)!);
    Y.applyUpdate(client, senderRevert(effect)!);
    expect(client.getText('medication').toString()).toBe('Ketamine');
    expect(server.getText('medication').toString()).toBe('Ketamine');
    expect(Buffer.from(Y.encodeStateAsUpdate(server)).includes('SECRET-TEXT')).toBe(false);

    // The client types right where the refused text was, in a section it may not change (refused
    // again) and then in one it may: the second one integrates, nothing is left pending.
    const next = updateOf(client, () => client.getText('integration').insert(7, ' daily'));
    const nextEffect = analyseUpdate(server, next);
    expect(refusalOf(Role.PRESCRIBER, nextEffect)).toContain('"integration"');
    expect(refusalOf(Role.THERAPIST, nextEffect)).toBeUndefined();
    Y.applyUpdate(server, next);
    expect(server.getText('integration').toString()).toBe('Journal daily');
    expect(server.store.pendingStructs).toBeNull();
  });

  it('restores text whose deletion was refused, for the sender too', () => {
    const { server, client } = setup();
    const refused = updateOf(client, () => client.getText('medication').delete(0, 4));
    const effect = analyseUpdate(server, refused);
    const restoring = updateOf(server, () => restoreDeleted(server, effect.deletes, 'server'));
    Y.applyUpdate(client, restoring);
    expect(server.getText('medication').toString()).toBe('Ketamine');
    expect(client.getText('medication').toString()).toBe('Ketamine');
  });
});

describe('restoring a refused removal of formatting', () => {
  it('rewrites the section so the sender sees the formatting again', () => {
    const { server, client } = setup();
    const bold = new Y.Doc();
    Y.applyUpdate(bold, Y.encodeStateAsUpdate(server));
    Y.applyUpdate(server, updateOf(bold, () => bold.getText('medication').format(0, 3, { bold: true })));
    Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
    const refused = updateOf(client, () => client.getText('medication').format(0, 3, { bold: null }));
    const effect = analyseUpdate(server, refused);
    expect(refusalOf(Role.THERAPIST, effect)).toContain('"medication"');
    Y.applyUpdate(server, neutralisedUpdate(effect) ?? new Uint8Array([0, 0]));
    Y.applyUpdate(client, senderRevert(effect) ?? new Uint8Array([0, 0]));
    const restoring = updateOf(server, () => restoreDeleted(server, effect.deletes, 'server'));
    if (restoring) Y.applyUpdate(client, restoring);
    expect(server.getText('medication').toDelta()).toEqual([{ insert: 'Ket', attributes: { bold: true } }, { insert: 'amine' }]);
    expect(client.getText('medication').toDelta()).toEqual(server.getText('medication').toDelta());
  });
});

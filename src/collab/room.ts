import * as Y from 'yjs';
import type { Role } from '../domain/roles';
import { KeyedSerial } from '../events/inOrder';
import type { Logger } from '../logger';
import {
  CollabCloseCode,
  ProtocolError,
  awarenessMessage,
  permissionDeniedMessage,
  syncStep1Message,
  syncStep2Message,
  updateMessage,
  type AwarenessEntry,
  type ClientMessage,
  type ReceivedAwareness,
} from './protocol';
import type { PresenceLimits } from '../config/config';
import { UpdateGate, captureUpdate } from './permissions';
import type { ClientOwners, PlanChange, PlanStore } from './persistence';

/**
 * A batch as stored: one merged update per author and connection (Yjs updates commute, so nothing
 * depends on their order), which keeps the log short and the INSERT small during bursts of typing.
 */
function byAuthor(batch: Pending[]): PlanChange[] {
  const groups = new Map<string, Pending[]>();
  for (const change of batch) {
    const key = `${change.clinicianId} ${change.requestId}`;
    groups.set(key, [...(groups.get(key) ?? []), change]);
  }
  return [...groups.values()].map((changes) => ({
    clinicianId: changes[0].clinicianId,
    requestId: changes[0].requestId,
    update: changes.length === 1 ? changes[0].update : Y.mergeUpdates(changes.map((c) => c.update)),
  }));
}

/** One connected editor, as the room sees it: who it is and how to reach it. */
export interface Peer {
  clinician: { id: string; name: string; role: Role };
  requestId: string;
  send(message: Uint8Array): void;
  close(code: CollabCloseCode, reason: string): void;
}

interface Pending extends PlanChange {
  /** Who sent it (not echoed back to them); undefined for changes everyone must get. */
  from?: Peer;
  sections: Set<string>;
}

/**
 * One plan's live document on this instance: the Y.Doc, its editors and their presence.
 *
 * Everything that reads or changes the document runs one at a time (`exclusive`, the per-document
 * mutex). An accepted update is applied in memory at once, so the next one is checked against it,
 * but it reaches other editors (and sync replies and GraphQL) only once stored: changes wait in
 * `pending`, are appended to PostgreSQL together (group commit), and relayed after the commit. If
 * storing fails the room gives up (`onFailure`): its editors are disconnected and reload what was
 * stored, re-sending what they have.
 */
export class Room {
  private readonly peers = new Set<Peer>();
  private readonly presence = new Map<number, AwarenessEntry & { peer: Peer }>();
  /** The presence client ids each connection has announced, bounded by `presenceLimits`. */
  private readonly announced = new Map<Peer, Set<number>>();
  private readonly gate: UpdateGate;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly documentWork = new KeyedSerial();
  private failed = false;
  /** Ids this instance appended, so their NOTIFY is not applied a second time. */
  private readonly own = new Set<string>();

  constructor(
    readonly planId: string,
    readonly patientId: string,
    readonly doc: Y.Doc,
    private tail: number,
    owners: ClientOwners,
    private readonly options: {
      store: PlanStore;
      logger: Logger;
      compactAfter: number;
      presenceLimits: PresenceLimits;
      onFailure: (room: Room) => void;
    },
  ) {
    this.gate = new UpdateGate(doc, owners);
  }

  get size(): number {
    return this.peers.size;
  }

  join(peer: Peer): void {
    this.peers.add(peer);
    peer.send(syncStep1Message(Y.encodeStateVector(this.doc)));
    if (this.presence.size > 0) peer.send(awarenessMessage([...this.presence.values()]));
  }

  /** Disconnects a clinician who left the patient's care team. */
  dismiss(clinicianId: string): void {
    for (const peer of this.peers) {
      if (peer.clinician.id === clinicianId)
        peer.close(CollabCloseCode.Forbidden, "no longer on the patient's care team");
    }
  }

  leave(peer: Peer): void {
    this.peers.delete(peer);
    this.announced.delete(peer);
    const gone: AwarenessEntry[] = [];
    for (const [clientId, entry] of this.presence) {
      if (entry.peer !== peer) continue;
      this.presence.delete(clientId);
      gone.push({ clientId, clock: entry.clock + 1, state: null });
    }
    if (gone.length > 0) this.broadcast(awarenessMessage(gone));
  }

  receive(peer: Peer, message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'syncStep1':
        return this.exclusive(async () => {
          await this.stored();
          peer.send(syncStep2Message(Y.encodeStateAsUpdate(this.doc, message.stateVector)));
        });
      case 'update':
        return this.exclusive(async () => this.fromClient(peer, message.update));
      case 'awareness':
        this.updatePresence(peer, message.entries);
        return Promise.resolve();
      case 'queryAwareness':
        peer.send(awarenessMessage([...this.presence.values()]));
        return Promise.resolve();
    }
  }

  /** The sections' text as stored. */
  async sectionTexts(keys: readonly string[]): Promise<Map<string, string>> {
    return this.exclusive(async () => {
      await this.stored();
      return new Map(keys.map((key) => [key, this.doc.getText(key).toString()]));
    });
  }

  /**
   * Replaces a section's text on behalf of `clinicianId` (permission already checked), changing only
   * the span that differs so concurrent edits elsewhere in the section survive. Resolves once stored.
   */
  async replaceSection(
    key: string,
    text: string,
    by: { clinicianId: string; requestId: string },
  ): Promise<void> {
    await this.exclusive(async () => {
      const ytext = this.doc.getText(key);
      const current = ytext.toString();
      let start = 0;
      while (start < current.length && start < text.length && current[start] === text[start]) start++;
      let end = 0;
      while (
        end < current.length - start &&
        end < text.length - start &&
        current[current.length - 1 - end] === text[text.length - 1 - end]
      )
        end++;
      const update = captureUpdate(this.doc, () => {
        ytext.delete(start, current.length - start - end);
        ytext.insert(start, text.slice(start, text.length - end));
      });
      if (update) this.enqueue({ update, ...by, sections: new Set([key]) });
      await this.stored();
    });
  }

  /**
   * Updates another instance stored: already checked there, applied and relayed here. The owners of
   * the client ids they were written under, stored with them, are read first, so nobody here can
   * write under them.
   */
  applyStored(ids: string[]): Promise<void> {
    const foreign = ids.filter((id) => !this.own.delete(id));
    if (foreign.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      this.gate.adopt(await this.options.store.owners(this.planId));
      for (const stored of await this.options.store.fetch(foreign)) {
        const update = captureUpdate(this.doc, () => Y.applyUpdate(this.doc, stored));
        if (update) this.broadcast(updateMessage(update));
      }
    });
  }

  /** Resolves when everything accepted so far is stored (and relayed). */
  async stored(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async fromClient(peer: Peer, update: Uint8Array): Promise<void> {
    const clinicianId = peer.clinician.id;
    const requestId = peer.requestId;
    let decision;
    try {
      decision = this.gate.receive(peer.clinician, update);
    } catch {
      throw new ProtocolError('update could not be integrated');
    }
    const { accepted, refusal, emptied, revert, restored, sections } = decision;
    if (accepted) this.enqueue({ update: accepted, clinicianId, requestId, from: peer, sections });
    if (refusal === undefined) return;
    peer.send(permissionDeniedMessage(refusal));
    this.options.logger.info(
      { requestId, clinicianId, planId: this.planId, reason: refusal },
      'live-document edit refused',
    );
    if (emptied) this.enqueue({ update: emptied, clinicianId, requestId, sections: new Set() });
    if (revert) peer.send(updateMessage(revert));
    if (restored) this.enqueue({ update: restored, clinicianId: null, requestId, sections });
  }

  private enqueue(change: Pending): void {
    this.pending.push(change);
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failed) {
        const batch = this.pending;
        this.pending = [];
        const sections = new Set(batch.flatMap((c) => [...c.sections]));
        let ids: string[];
        try {
          ids = await this.options.store.append(
            this.planId,
            this.patientId,
            byAuthor(batch),
            [...sections],
            this.gate.takeClaims(),
          );
        } catch (error) {
          this.fail(error);
          return;
        }
        for (const id of ids) this.own.add(id);
        this.relay(batch);
        this.tail += ids.length;
        if (this.tail >= this.options.compactAfter) this.compact();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Sends a stored batch as one merged update per editor: everyone gets all of it, except that a
   * sender is not sent its own changes back.
   */
  private relay(batch: Pending[]): void {
    const merged = (changes: Pending[]) =>
      updateMessage(changes.length === 1 ? changes[0].update : Y.mergeUpdates(changes.map((c) => c.update)));
    const senders = new Set(batch.flatMap((c) => (c.from ? [c.from] : [])));
    let everything: Uint8Array | undefined;
    for (const peer of this.peers) {
      if (senders.has(peer)) {
        const others = batch.filter((c) => c.from !== peer);
        if (others.length > 0) peer.send(merged(others));
      } else {
        peer.send((everything ??= merged(batch)));
      }
    }
  }

  private compact(): void {
    this.tail = 0;
    this.options.store
      .compact(this.planId)
      .catch((error: Error) =>
        this.options.logger.warn(
          { err: { type: error.name, message: error.message }, planId: this.planId },
          'plan compaction failed; retried later',
        ),
      );
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.options.logger.error(
      { err: { type: (error as Error).name, message: (error as Error).message }, planId: this.planId },
      'storing a plan update failed; closing the document',
    );
    for (const peer of this.peers)
      peer.close(CollabCloseCode.StorageFailed, 'the document could not be stored; reconnect to reload it');
    this.options.onFailure(this);
  }

  /**
   * Presence is bounded (`PresenceLimits`): a state over the size cap, or a connection announcing
   * more client ids than allowed, closes that connection (4400) before anyone receives any of it.
   */
  private updatePresence(peer: Peer, entries: ReceivedAwareness[]): void {
    const { maxStateBytes, maxClientsPerConnection } = this.options.presenceLimits;
    const announced = this.announced.get(peer) ?? new Set<number>();
    for (const entry of entries) {
      if (entry.bytes > maxStateBytes) throw new ProtocolError(`presence state over ${maxStateBytes} bytes`);
      announced.add(entry.clientId);
    }
    if (announced.size > maxClientsPerConnection)
      throw new ProtocolError(`more than ${maxClientsPerConnection} presence client ids on one connection`);
    this.announced.set(peer, announced);

    const accepted: AwarenessEntry[] = [];
    const { id, name, role } = peer.clinician;
    for (const { clientId, clock, state } of entries) {
      const known = this.presence.get(clientId);
      // A client id belongs to the connection that used it first; older clocks are stale. Its
      // document client id is claimed for the clinician too, so nobody else can write as it.
      if (known && (known.peer !== peer || known.clock > clock)) continue;
      if (state === null) {
        this.presence.delete(clientId);
        accepted.push({ clientId, clock, state });
        continue;
      }
      if (!this.gate.claim(clientId, id)) continue;
      // Nobody can appear as someone else: `user` comes from the token, whatever the client said.
      const shown = { ...state, user: { id, name, role } };
      this.presence.set(clientId, { clientId, clock, state: shown, peer });
      accepted.push({ clientId, clock, state: shown });
    }
    if (accepted.length > 0) this.broadcast(awarenessMessage(accepted));
  }

  private broadcast(message: Uint8Array, except?: Peer): void {
    for (const peer of this.peers) if (peer !== except) peer.send(message);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.documentWork.run(this.planId, work);
  }
}

import type { EventHub } from '../events/hub';
import type { Logger } from '../logger';
import type { PlanStore } from './persistence';
import type { PresenceLimits } from '../config/config';
import { Room, type Peer } from './room';

/**
 * The plans open on this instance. A plan is loaded when its first editor (or a GraphQL read or
 * edit) arrives and unloaded once nobody uses it and everything is stored: memory holds only
 * documents in use, and nothing lives only in memory. Updates other instances store arrive as
 * `planUpdated` events and are applied to the open room.
 */
export class Rooms {
  private readonly open = new Map<string, { room: Promise<Room>; loaded?: Room; users: number }>();
  private readonly stopListening: () => void;

  constructor(
    private readonly store: PlanStore,
    hub: EventHub,
    private readonly logger: Logger,
    private readonly compactAfter: number,
    private readonly presenceLimits: PresenceLimits,
  ) {
    this.stopListening = hub.listen((event) => {
      if (event.type === 'careTeamLeft') {
        for (const { loaded } of this.open.values())
          if (loaded?.patientId === event.patientId) loaded.dismiss(event.clinicianId);
        return;
      }
      if (event.type !== 'planUpdated') return;
      const entry = this.open.get(event.planId);
      void entry?.room
        .then((room) => room.applyStored(event.updateIds))
        .catch((error: Error) =>
          this.logger.warn(
            { err: { type: error.name }, planId: event.planId },
            'applying a stored plan update failed',
          ),
        );
    });
  }

  /** How many documents are in memory. */
  get loaded(): number {
    return this.open.size;
  }

  /** Runs `work` with the plan's room open, then lets it go. */
  async with<T>(planId: string, patientId: string, work: (room: Room) => Promise<T>): Promise<T> {
    const room = await this.acquire(planId, patientId);
    try {
      return await work(room);
    } finally {
      void this.release(room);
    }
  }

  /** Adds an editor; `leave` must follow when its socket closes. */
  async join(planId: string, patientId: string, peer: Peer): Promise<Room> {
    const room = await this.acquire(planId, patientId);
    room.join(peer);
    return room;
  }

  async leave(room: Room, peer: Peer): Promise<void> {
    room.leave(peer);
    await this.release(room);
  }

  close(): void {
    this.stopListening();
  }

  private acquire(planId: string, patientId: string): Promise<Room> {
    let entry = this.open.get(planId);
    if (!entry) {
      const room = this.store.load(planId).then(
        ({ doc, tail, owners }) =>
          new Room(planId, patientId, doc, tail, owners, {
            store: this.store,
            logger: this.logger,
            compactAfter: this.compactAfter,
            presenceLimits: this.presenceLimits,
            onFailure: (failed) => this.forget(failed),
          }),
      );
      const created: { room: Promise<Room>; loaded?: Room; users: number } = { room, users: 0 };
      room.then(
        (loaded) => (created.loaded = loaded),
        () => this.open.delete(planId),
      );
      entry = created;
      this.open.set(planId, entry);
    }
    entry.users++;
    return entry.room;
  }

  private async release(room: Room): Promise<void> {
    const entry = this.open.get(room.planId);
    if (entry?.loaded !== room) return;
    entry.users--;
    if (entry.users > 0) return;
    await room.stored();
    if (entry.users === 0) this.forget(room);
  }

  private forget(room: Room): void {
    if (this.open.get(room.planId)?.loaded === room) this.open.delete(room.planId);
    room.doc.destroy();
  }
}

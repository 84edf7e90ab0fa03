import type { EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import type { CareEvent } from '../events/events';
import type { EventHub } from '../events/hub';
import { eventStream } from '../events/stream';
import type { RequestScope } from './scope';

/**
 * What a subscription delivers: events of one type (for one patient, or all of the caller's),
 * each loaded afresh and audited, and only while the caller is on the patient's care team. Leaving
 * the team ends a one-patient subscription and silences that patient in an all-patients one.
 */
export async function* liveForCareTeam<T>(
  scope: RequestScope,
  access: CareTeamAccess,
  hub: EventHub,
  options: {
    type: CareEvent['type'];
    patientId?: string;
    load: (em: EntityManager, id: string) => Promise<T | null>;
    audit: (item: T) => void;
  },
): AsyncGenerator<T> {
  const { type, patientId } = options;
  const stream = eventStream(hub, (e) => e.type === type && (patientId === undefined || e.patientId === patientId));
  try {
    for await (const event of stream) {
      // A subscription lives long; its identity map must not grow with every event.
      scope.em.clear();
      if (!(await access.isOnTeam(scope.em, event.patientId))) {
        if (patientId !== undefined) return;
        continue;
      }
      const item = await options.load(scope.em, event.id);
      if (item === null) continue;
      options.audit(item);
      yield item;
    }
  } finally {
    await stream.return?.();
  }
}

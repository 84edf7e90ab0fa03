import { actionRefusal } from '../domain/roles';
import { PsychotherapyNote } from '../entities';
import { badInput, forbidden } from '../errors';
import { parseId } from '../ids';
import type { RequestScope } from './scope';
import type { SessionRecords } from './sessions';

const MAX_NOTE_CHARS = 50_000;

/**
 * A therapist's psychotherapy notes: their author reads and writes them, nobody else, not even
 * other members of the care team. That a note exists and was read is audited; what it says is not.
 */
export class NoteRecords {
  constructor(
    private readonly scope: RequestScope,
    private readonly sessions: SessionRecords,
  ) {}

  async write(sessionId: string, text: string): Promise<PsychotherapyNote> {
    const refusal = actionRefusal(this.scope.clinician.role, 'writePsychotherapyNotes');
    if (refusal) throw forbidden(refusal);
    const id = parseId(sessionId, 'sessionId');
    if (text.length > MAX_NOTE_CHARS) throw badInput(`text must be at most ${MAX_NOTE_CHARS} characters`);
    return this.scope.write(async (em) => {
      const session = await this.sessions.get(em, id);
      let note = await em.findOne(PsychotherapyNote, { session: id, author: this.scope.clinician.id });
      if (note) note.text = text;
      else note = em.create(PsychotherapyNote, { session, author: this.scope.clinician.id, text });
      await em.flush();
      this.scope.audit({
        action: 'psychotherapyNote.write',
        patientId: session.patient.id,
        entity: 'PsychotherapyNote',
        entityId: note.id,
      });
      return note;
    });
  }

  /** The caller's own note on the session, or null: another clinician's note is never returned. */
  async mine(sessionId: string): Promise<PsychotherapyNote | null> {
    const id = parseId(sessionId, 'sessionId');
    const session = await this.sessions.get(this.scope.em, id);
    const note = await this.scope.em.findOne(PsychotherapyNote, {
      session: id,
      author: this.scope.clinician.id,
    });
    if (note)
      this.scope.audit({
        action: 'psychotherapyNote.read',
        patientId: session.patient.id,
        entity: 'PsychotherapyNote',
        entityId: note.id,
      });
    return note;
  }
}

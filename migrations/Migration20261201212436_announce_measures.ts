import { Migration } from '@mikro-orm/migrations';

/**
 * Every stored measure and score alert is announced by the database itself, on the channel every
 * instance LISTENs on (src/events/events.ts, `kap_events`), as part of the inserting transaction:
 * delivered only if and when it commits. One statement fewer per event on the write path than a
 * `select pg_notify` from the application, and no path that stores an alert can forget it.
 */
export class Migration20261201212436_announce_measures extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function announce_care_event() returns trigger language plpgsql as $$
      begin
        perform pg_notify('kap_events', json_build_object('type', tg_argv[0], 'id', new.id, 'patientId', new.patient_id)::text);
        return null;
      end $$;
      create trigger announce_measure after insert on measure for each row execute function announce_care_event('measureRecorded');
      create trigger announce_score_alert after insert on score_alert for each row execute function announce_care_event('scoreAlert');
    `);
  }
}

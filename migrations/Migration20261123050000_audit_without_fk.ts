import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log keeps the clinician's id as it was recorded, without a foreign key. An audit log
 * must not depend on the rows it tells about (as `patient_id` never did), and the key's check ran
 * once per row: a thousand clinicians receiving one alert meant a thousand lookups on the path
 * between the alert being stored and it reaching them. Every row is still written by the server
 * for a clinician it has just authenticated and stored.
 */
export class Migration20261123050000_audit_without_fk extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table audit_event drop constraint audit_event_clinician_id_fkey;`);
  }
}

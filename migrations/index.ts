import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000_foundation } from './Migration20261123000000_foundation';
import { Migration20261123010000_measures } from './Migration20261123010000_measures';
import { Migration20261123020000_plans } from './Migration20261123020000_plans';
import { Migration20261123030000_pathway } from './Migration20261123030000_pathway';
import { Migration20261123040000_sessions } from './Migration20261123040000_sessions';
import { Migration20261123050000_audit_without_fk } from './Migration20261123050000_audit_without_fk';
import { Migration20261201174500_collab_tickets } from './Migration20261201174500_collab_tickets';
import { Migration20261201175300_courses } from './Migration20261201175300_courses';
import { Migration20261201181500_dose_records } from './Migration20261201181500_dose_records';
import { Migration20261201212436_announce_measures } from './Migration20261201212436_announce_measures';
import { Migration20261201220700_plan_clients } from './Migration20261201220700_plan_clients';

/** Every migration, in order. Listed explicitly so they run the same from source and from dist. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261123000000_foundation', class: Migration20261123000000_foundation },
  { name: 'Migration20261123010000_measures', class: Migration20261123010000_measures },
  { name: 'Migration20261123020000_plans', class: Migration20261123020000_plans },
  { name: 'Migration20261123030000_pathway', class: Migration20261123030000_pathway },
  { name: 'Migration20261123040000_sessions', class: Migration20261123040000_sessions },
  { name: 'Migration20261123050000_audit_without_fk', class: Migration20261123050000_audit_without_fk },
  { name: 'Migration20261201174500_collab_tickets', class: Migration20261201174500_collab_tickets },
  { name: 'Migration20261201175300_courses', class: Migration20261201175300_courses },
  { name: 'Migration20261201181500_dose_records', class: Migration20261201181500_dose_records },
  { name: 'Migration20261201212436_announce_measures', class: Migration20261201212436_announce_measures },
  { name: 'Migration20261201220700_plan_clients', class: Migration20261201220700_plan_clients },
];

import {
  Entity,
  Enum,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
  Unique,
} from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { Role } from '../domain/roles';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';

/** A clinician's place on one patient's care team: the only thing that grants access to the patient. */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'care_team_member' })
@Unique({ properties: ['patient', 'clinician'] })
export class CareTeamMember {
  [OptionalProps]?: 'addedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  @ManyToOne(() => Clinician, { ref: true })
  clinician!: Ref<Clinician>;

  /** The clinician's role when they joined; the team's shape is read from here. */
  @Field(() => Role)
  @Enum({ items: () => Role, type: 'text' })
  role!: Role;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  addedAt: Date = new Date();

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  addedBy?: Ref<Clinician>;
}

import {
  Collection,
  Entity,
  Enum,
  ManyToOne,
  OneToMany,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { PatientStatus } from '../domain/patientStatus';
import { newId } from '../ids';
import { DateScalar } from './scalars';
import { CareTeamMember } from './CareTeamMember';
import { Clinician } from './Clinician';
import { Node } from './Node';

@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'patient' })
export class Patient {
  [OptionalProps]?: 'status' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field()
  @Property({ type: 'text' })
  firstName!: string;

  @Field()
  @Property({ type: 'text' })
  lastName!: string;

  @Field(() => DateScalar)
  @Property({ type: 'date' })
  dateOfBirth!: string;

  @Field(() => PatientStatus)
  @Enum({ items: () => PatientStatus, type: 'text' })
  status: PatientStatus = PatientStatus.REFERRED;

  @OneToMany(() => CareTeamMember, (member) => member.patient)
  careTeam = new Collection<CareTeamMember>(this);

  @ManyToOne(() => Clinician, { ref: true })
  createdBy!: Ref<Clinician>;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

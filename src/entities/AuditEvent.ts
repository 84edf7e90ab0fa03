import { Entity, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import type { AuditAction } from '../domain/audit';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import { Node } from './Node';

/**
 * One access to patient data (HIPAA §164.312(b) audit controls). Append-only: the database refuses
 * UPDATE, DELETE and TRUNCATE on its table (see the first migration).
 */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'audit_event' })
export class AuditEvent {
  @Field(() => ID)
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  at: Date = new Date();

  @ManyToOne(() => Clinician, { ref: true })
  clinician!: Ref<Clinician>;

  /** What was done (src/domain/audit.ts). */
  @Field(() => String)
  @Property({ type: 'text' })
  action!: AuditAction;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  patientId?: string;

  @Field()
  @Property({ type: 'text' })
  entity!: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'text', nullable: true })
  entityId?: string;

  @Field()
  @Property({ type: 'text' })
  requestId!: string;
}

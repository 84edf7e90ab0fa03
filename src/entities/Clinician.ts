import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../domain/roles';
import { newId } from '../ids';
import { Node } from './Node';

/** A user of the system, provisioned just in time from the claims of their token (keyed by `sub`). */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'clinician' })
export class Clinician {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  /** The identity provider's stable subject. Not exposed: it is the provider's, not ours. */
  @Property({ type: 'text', unique: true })
  sub!: string;

  @Field()
  @Property({ type: 'text' })
  email!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => Role)
  @Enum({ items: () => Role, type: 'text' })
  role!: Role;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

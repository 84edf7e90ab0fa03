import { Field, ObjectType } from 'type-graphql';
import { Role } from '../domain/roles';

/** One section of a plan's live document, as it is stored. `canEdit` is resolved per caller. */
@ObjectType()
export class PlanSection {
  @Field()
  key!: string;

  @Field()
  text!: string;

  @Field(() => [Role])
  editableBy!: Role[];
}

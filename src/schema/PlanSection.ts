import { Field, ObjectType } from 'type-graphql';
import { Role } from '../domain/roles';
import type { PlanSectionText } from '../records/plans';

/** One section of a plan's live document, as it is stored. `canEdit` is resolved per caller. */
@ObjectType({ simpleResolvers: true })
export class PlanSection implements PlanSectionText {
  @Field()
  key!: string;

  @Field()
  text!: string;

  @Field(() => [Role])
  editableBy!: Role[];
}

import { Field, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../entities/scalars';

@ObjectType({
  simpleResolvers: true,
  description:
    'Opens one plan’s live document once: `/collab/<planId>?ticket=<ticket>` (y-websocket `params: { ticket }`).',
})
export class CollabTicket {
  @Field({ description: 'Single use, bound to the plan and the clinician who asked for it.' })
  ticket!: string;

  @Field(() => DateTimeScalar, { description: '60 seconds after issue (sooner if the token expires first).' })
  expiresAt!: Date;
}

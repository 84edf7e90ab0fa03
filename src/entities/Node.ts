import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * Relay's Global Object Identification. An object's id is already unique across every type
 * (UUIDv7 for clinical records and clinicians, a decimal number for audit events), so the global id
 * is the id itself: no encoding, and the id a client holds works with `node(id:)` and with every
 * argument that takes one. Concrete types are told apart by their entity classes (`instanceof`).
 */
@InterfaceType({ description: 'An object with an id unique across all types, refetchable with `node(id:)`.' })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

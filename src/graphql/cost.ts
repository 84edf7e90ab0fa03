import {
  getNamedType,
  GraphQLError,
  isCompositeType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLType,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { largestPageOf } from '../schema/pageSize';

/**
 * A list that is not paged (a care team, a patient's latest measures, open alerts, courses, plans,
 * sessions, the sections of a plan) is counted as this many items: a few to tens in practice.
 */
export const UNPAGED_LIST_ITEMS = 10;

/**
 * About how many fields an operation's answer may hold: every field resolved, scalars included,
 * times the number of objects it is resolved on. A connection holds its `first` (or `last`) edges:
 * the literal, the argument's default when omitted, and the field's largest page (100; the audit
 * log's 500) when it comes from a variable, whose value validation does not see (so a variable
 * cannot slip a big page past it). The
 * estimate grows with what the database is asked to read: 100 patients with 10 measures
 * each is about 17,000; 100 patients with 100 measures each of 100 patients is millions.
 */
export function operationCost(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  type: GraphQLCompositeType,
): number {
  const fragmentsOnPath = new Set<string>();

  const ofSelections = (
    selections: SelectionSetNode,
    parent: GraphQLCompositeType,
    objects: number,
    page: number,
  ): number => {
    let cost = 0;
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += ofField(selection, parent, objects, page);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition
          ? context.getSchema().getType(selection.typeCondition.name.value)
          : parent;
        if (on && isCompositeType(on)) cost += ofSelections(selection.selectionSet, on, objects, page);
      } else {
        const name = selection.name.value;
        const fragment = context.getFragment(name);
        // A cycle of fragments is refused by GraphQL's own rule; it costs nothing more here.
        if (!fragment || fragmentsOnPath.has(name)) continue;
        const on = context.getSchema().getType(fragment.typeCondition.name.value);
        if (!on || !isCompositeType(on)) continue;
        fragmentsOnPath.add(name);
        cost += ofSelections(fragment.selectionSet, on, objects, page);
        fragmentsOnPath.delete(name);
      }
    }
    return cost;
  };

  const ofField = (node: FieldNode, parent: GraphQLCompositeType, objects: number, page: number): number => {
    const name = node.name.value;
    if (name === '__typename') return objects;
    // Introspection reads the schema, not the database.
    if (name === '__schema' || name === '__type') return 0;
    const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
    // An unknown field is refused by GraphQL's own rules.
    if (!field) return 0;
    const type = getNamedType(field.type);
    if (isLeafType(type) || !node.selectionSet || !isCompositeType(type)) return objects;
    // The edges of a connection are its page; any other list counts as unpaged.
    const items = isList(field.type)
      ? name === 'edges' && parent.name.endsWith('Connection')
        ? page
        : UNPAGED_LIST_ITEMS
      : 1;
    const resolved = objects * items;
    return resolved + ofSelections(node.selectionSet, type, resolved, pageOf(node, field));
  };

  return ofSelections(selectionSet, type, 1, 1);
}

/**
 * A connection's page size: its `first` or `last`. An omitted `last` asks for nothing; an omitted
 * `first` asks for its default unless `last` is written (which then replaces it).
 */
function pageOf(node: FieldNode, field: GraphQLField<unknown, unknown>): number {
  let page = 1;
  const written = (name: string) => node.arguments?.find((a) => a.name.value === name)?.value;
  for (const name of ['first', 'last']) {
    const argument = field.args.find((a) => a.name === name);
    if (!argument) continue;
    const given = written(name);
    if (!given && (name === 'last' || written('last'))) continue;
    const literal = given
      ? given.kind === Kind.INT
        ? Number.parseInt(given.value, 10)
        : undefined
      : argument.defaultValue;
    // A variable (or a field without a default) may ask for the field's largest page.
    page = Math.max(page, typeof literal === 'number' ? literal : largestPageOf(field));
  }
  return page;
}

function isList(type: GraphQLType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** Refuses an operation whose answer may hold more than `maxCost` fields (`operationCost`). */
export function costRule(options: {
  maxCost: number;
  exposeLimits: boolean;
  reject: (context: ValidationContext, error: GraphQLError) => void;
}) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation);
      if (!root) return;
      const cost = operationCost(context, operation.selectionSet, root);
      if (cost <= options.maxCost) return;
      const message = options.exposeLimits
        ? `The answer may hold up to ${cost} fields, over the limit of ${options.maxCost}: ask for smaller pages (first) or fewer nested lists`
        : 'The answer may hold more fields than the limit allows: ask for smaller pages (first) or fewer nested lists';
      options.reject(context, new GraphQLError(message));
    },
  });
}

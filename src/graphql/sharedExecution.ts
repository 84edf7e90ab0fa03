import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLFormattedError,
} from 'graphql';
import { inOrder, KeyedSerial } from '../events/inOrder';
import { RequestScope, type AuditEntry } from '../records/scope';
import type { GraphQLContext } from './context';
import { LiveFeed, type LiveFeeds } from './liveFeeds';

/**
 * Subscription events executed once per group of alike subscriptions instead of once per
 * subscriber, and sent to the group's recipients in one loop. A thousand clinicians watching one
 * patient's alerts with the same operation get one execution per alert, not a thousand, so the
 * fan-out is bounded by the sockets, not by GraphQL (BENCHMARKS.md, "alerts — score-alert fan-out").
 *
 * Alike means: the same event item, the same operation text, variables and operation name, and the
 * same role. Whoever receives an event has just been checked to be on the patient's care team
 * (src/records/liveSubscription.ts), and what a subscription type can reach depends on the caller only through
 * that membership and their role (`PlanSection.canEdit`). Anything private to one clinician (a
 * therapist's own notes) must never be reachable from a subscription type.
 *
 * Events of one patient are served one at a time per group, so each subscription receives them in
 * order; other patients' events are served beside them. One context executes one event at a time:
 * a group's first recipient may be the first of several patients' batches.
 *
 * Each recipient is still audited as itself, for this item alone: its feed's entries for receiving
 * the item and the entries the shared execution produced (collected from that execution only, not
 * from whatever else its first recipient's scope audits meanwhile) are stored under the
 * recipient's own request before its copy is sent.
 */
export function subscribeShared(options: {
  /** The text each parsed operation came from. */
  queryText: WeakMap<DocumentNode, string>;
  /** Where the results of the subscription with this context go. */
  channelOf: (context: GraphQLContext) => SubscriptionChannel;
  /** What clients see of an error, as for every other result. */
  format: (error: GraphQLError) => GraphQLFormattedError;
  /** The instance's live subscriptions, which feeds join when they start. */
  feeds: LiveFeeds;
}) {
  const { queryText, channelOf, format, feeds } = options;
  const serveInOrder = inOrder();
  const executing = new KeyedSerial<GraphQLContext>();
  const gathering = new WeakMap<object, Map<string, { deliveries: Delivery[]; served: Promise<void> }>>();

  /**
   * Adds a recipient of `item`; settles once the recipient's batch is served. A feed hands an
   * event's item to all its recipients in one pass, so by the next microtask each group's
   * recipients are all there and are served together.
   */
  const gather = (item: object, group: string, delivery: Delivery, order: string): Promise<void> => {
    let groups = gathering.get(item);
    if (!groups) gathering.set(item, (groups = new Map()));
    const gathered = groups.get(group);
    if (gathered) {
      gathered.deliveries.push(delivery);
      return gathered.served;
    }
    const batch = [delivery];
    const served = new Promise<void>((resolve) =>
      queueMicrotask(() => {
        // A recipient that comes later (one whose membership had to be read first) is a batch of its own.
        groups.delete(group);
        serveInOrder(`${group}\n${order}`, () =>
          serve(item, batch, format, executing)
            .catch((error: unknown) => {
              for (const { recipient } of batch) recipient.feed.fail(error);
            })
            .finally(resolve),
        );
      }),
    );
    groups.set(group, { deliveries: batch, served });
    return served;
  };

  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    if (!(source instanceof LiveFeed))
      throw new TypeError('A subscription field must return a LiveFeed (src/graphql/liveFeeds.ts)');
    const context = args.contextValue as GraphQLContext;
    const group = [
      context.clinician.role,
      args.operationName ?? '',
      JSON.stringify(args.variableValues ?? {}),
      queryText.get(args.document) ?? '',
    ].join('\n');
    const recipient: Recipient = { args, context, feed: source, channel: channelOf(context) };
    source.start(feeds, (item, audit, order) => gather(item, group, { recipient, audit }, order));
    // Yields nothing: every result is sent on the channel, and graphql-ws hears only of the end.
    return source;
  };
}

/**
 * Where one subscription's results go: its socket, under its operation id. The server sends them
 * itself instead of yielding them to graphql-ws, which for each subscriber would take every result
 * through its own loop, the `onNext` hook, a validation and serialisation of the message and a
 * promise per send: for a thousand subscribers, more time than the sending itself. The payload is
 * serialised once per group.
 */
export interface SubscriptionChannel {
  /** Sends a `next` message with this (JSON) payload. */
  next(payload: string): void;
}

interface Recipient {
  args: ExecutionArgs;
  context: GraphQLContext;
  feed: LiveFeed<object>;
  channel: SubscriptionChannel;
}

/** One item for one recipient, with what its receiving the item is audited as. */
interface Delivery {
  recipient: Recipient;
  audit: AuditEntry[];
}

/**
 * Recipients whose audit rows go in one INSERT. The first slice's rows are stored and its messages
 * sent while the next slice's rows are being stored, rather than every recipient waiting for one
 * insert of all their rows.
 */
const AUDIT_SLICE = 250;

async function serve(
  item: object,
  deliveries: Delivery[],
  format: (error: GraphQLError) => GraphQLFormattedError,
  executing: KeyedSerial<GraphQLContext>,
): Promise<void> {
  const { args, context } = deliveries[0].recipient;
  let shared: SharedResult;
  try {
    shared = await executing.run(context, () => executeAudited(args, item, context, format));
  } catch (error) {
    for (const { recipient } of deliveries) recipient.feed.fail(error);
    return;
  }
  const slices: { deliveries: Delivery[]; stored: Promise<{ error: unknown } | undefined> }[] = [];
  for (let from = 0; from < deliveries.length; from += AUDIT_SLICE) {
    // A subscription that ended meanwhile receives nothing, so is not audited as having received it.
    const slice = deliveries.slice(from, from + AUDIT_SLICE).filter(({ recipient }) => recipient.feed.open);
    const reads = slice.map(({ recipient, audit }) => ({
      scope: recipient.context.records.scope,
      entries: [...audit, ...shared.audit],
    }));
    slices.push({
      deliveries: slice,
      stored: RequestScope.storeReads(reads).then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
    });
  }
  for (const { deliveries, stored } of slices) {
    // Audited before the data leaves, as over HTTP; a recipient whose audit failed gets an error instead.
    const failed = await stored;
    for (const { recipient } of deliveries) {
      if (failed) recipient.feed.fail(failed.error);
      else if (recipient.feed.open) recipient.channel.next(shared.payload);
    }
  }
}

interface SharedResult {
  /** The result as clients see it, in JSON. */
  payload: string;
  /** What the execution read, to be audited for each recipient. */
  audit: AuditEntry[];
}

async function executeAudited(
  args: ExecutionArgs,
  item: unknown,
  context: GraphQLContext,
  format: (error: GraphQLError) => GraphQLFormattedError,
): Promise<SharedResult> {
  try {
    const { value, entries } = await context.records.scope.collectAudit(
      async () => execute({ ...args, rootValue: item }) as ExecutionResult,
    );
    const result = value.errors ? { ...value, errors: value.errors.map(format) } : value;
    return { payload: JSON.stringify(result), audit: entries };
  } finally {
    // A subscription lives long: what one event's execution loaded must not stay for the next. (The
    // result is plain data; the event's item lives in a fork of its own, src/records/liveSubscription.ts.)
    context.records.scope.em.clear();
  }
}

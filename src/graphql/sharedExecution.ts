import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { AuditEntry } from '../records/scope';
import type { GraphQLContext } from './context';

/**
 * Subscription events executed once per group of alike subscriptions instead of once per
 * subscriber. A thousand clinicians watching one patient's alerts with the same operation get one
 * execution per alert, not a thousand (each costs tens of microseconds of resolver work), so the
 * fan-out is bounded by the sockets, not by GraphQL.
 *
 * Alike means: the same event item, the same operation text, variables and operation name, and the
 * same role. Whoever receives an event has just been checked to be on the patient's care team
 * (src/records/live.ts), and what a subscription type can reach depends on the caller only through
 * that membership and their role (`PlanSection.canEdit`). Anything private to one clinician (a
 * therapist's own notes) must never be reachable from a subscription type.
 *
 * Each subscriber is still audited as itself: the audit entries the shared execution produced are
 * added to every subscriber's own request scope, and stored before its copy is sent.
 */
export function subscribeShared(options: {
  /** The text each parsed operation came from. */
  queryText: WeakMap<DocumentNode, string>;
  /** Where the results of the subscription with this context go. */
  channelOf: (context: GraphQLContext) => SubscriptionChannel;
  /** What clients see of an error, as for every other result. */
  format: (error: GraphQLError) => GraphQLFormattedError;
}) {
  const { queryText, channelOf, format } = options;
  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const context = args.contextValue as GraphQLContext;
    const group = [context.clinician.role, args.operationName ?? '', JSON.stringify(args.variableValues ?? {}), queryText.get(args.document) ?? ''].join('\n');
    const events = source as AsyncIterableIterator<unknown>;
    const channel = channelOf(context);
    let open = true;
    const ended = async (): Promise<IteratorResult<ExecutionResult>> => {
      open = false;
      await events.return?.();
      return { done: true, value: undefined };
    };
    // Yields nothing: every result is sent on the channel, and graphql-ws hears only of the end.
    const results: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        for (;;) {
          const event = await events.next();
          if (event.done || !open) return ended();
          const shared = await oncePerGroup(event.value as object, group, () => executeAudited(args, event.value, context, format));
          context.records.scope.audit(...shared.audit);
          // Audited before the data leaves, as over HTTP. Every subscriber of the event waits on
          // the same group commit, which starts as soon as they all do.
          await context.records.scope.flushAudit();
          if (!open) return ended();
          await channel.next(shared.payload);
        }
      },
      return: ended,
      async throw(error) {
        await ended();
        throw error;
      },
    };
    return results;
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
  /** Sends a `next` message with this (JSON) payload; resolves when the socket takes more. */
  next(payload: string): Promise<void> | void;
}

interface SharedResult {
  /** The result as clients see it, in JSON. */
  payload: string;
  /** What the execution read, to be audited for each subscriber. */
  audit: AuditEntry[];
}

async function executeAudited(args: ExecutionArgs, item: unknown, context: GraphQLContext, format: (error: GraphQLError) => GraphQLFormattedError): Promise<SharedResult> {
  try {
    const { value, entries } = await context.records.scope.collectAudit(async () => execute({ ...args, rootValue: item }) as ExecutionResult);
    const result = value.errors ? { ...value, errors: value.errors.map(format) } : value;
    return { payload: JSON.stringify(result), audit: entries };
  } finally {
    // A subscription lives long: what one event's execution loaded must not stay for the next. (The
    // result is plain data; the event's item lives in a fork of its own, src/records/live.ts.)
    context.records.scope.em.clear();
  }
}

const perItem = new WeakMap<object, Map<string, Promise<SharedResult>>>();

function oncePerGroup(item: object, group: string, work: () => Promise<SharedResult>): Promise<SharedResult> {
  let results = perItem.get(item);
  if (!results) perItem.set(item, (results = new Map()));
  let result = results.get(group);
  if (!result) results.set(group, (result = work()));
  return result;
}

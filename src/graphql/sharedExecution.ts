import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
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
 * added to every subscriber's own request scope, and stored before its copy is handed on.
 */
export function subscribeShared(queryText: WeakMap<DocumentNode, string>) {
  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const context = args.contextValue as GraphQLContext;
    const group = [context.clinician.role, args.operationName ?? '', JSON.stringify(args.variableValues ?? {}), queryText.get(args.document) ?? ''].join('\n');
    const events = source as AsyncIterableIterator<unknown>;
    const results: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        const event = await events.next();
        if (event.done) return event;
        const shared = await oncePerGroup(event.value as object, group, () => executeAudited(args, event.value, context));
        context.records.scope.audit(...shared.audit);
        // Stored here rather than as graphql-ws sends each copy (ws.ts): every subscriber of the
        // event then waits on the same group commit, which starts as soon as they all do.
        await context.records.scope.flushAudit();
        return { done: false, value: shared.result };
      },
      async return() {
        await events.return?.();
        return { done: true, value: undefined };
      },
      async throw(error) {
        await events.return?.();
        throw error;
      },
    };
    return results;
  };
}

interface SharedResult {
  result: ExecutionResult;
  /** What the execution read, to be audited for each subscriber. */
  audit: AuditEntry[];
}

async function executeAudited(args: ExecutionArgs, item: unknown, context: GraphQLContext): Promise<SharedResult> {
  const { value, entries } = await context.records.scope.collectAudit(async () => execute({ ...args, rootValue: item }) as ExecutionResult);
  return { result: value, audit: entries };
}

const perItem = new WeakMap<object, Map<string, Promise<SharedResult>>>();

function oncePerGroup(item: object, group: string, work: () => Promise<SharedResult>): Promise<SharedResult> {
  let results = perItem.get(item);
  if (!results) perItem.set(item, (results = new Map()));
  let result = results.get(group);
  if (!result) results.set(group, (result = work()));
  return result;
}

import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { costRule } from './cost';
import { GraphQLError, specifiedRules, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Limits on what one operation may ask for, the same over HTTP and graphql-ws (listed in the README).
 * `maxCost` admits a front end's heaviest page (100 patients with care team, latest measures and ten
 * measures each, about 17,000 fields) with room to spare, and refuses what would read millions of rows.
 */
export const operationLimits = {
  maxTokens: 2000,
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxCost: 100_000,
  /** The largest request body over HTTP, and the largest graphql-ws message (a bigger one closes the socket, 1009). */
  maxBodyBytes: 1024 * 1024,
} as const;

export type OperationLimit = keyof typeof operationLimits;

/**
 * An operation over one of the limits: `OPERATION_TOO_COMPLEX`, with the limit's name and value in
 * `extensions`, so a client can tell it from a typo and knows what to split or trim.
 */
export class OperationLimitError extends GraphQLError {
  constructor(
    readonly limit: OperationLimit,
    message: string,
  ) {
    super(message, { extensions: { code: 'OPERATION_TOO_COMPLEX', limit, value: operationLimits[limit] } });
    this.name = 'OperationLimitError';
  }
}

/**
 * graphql-js's parse error for a document over `maxTokens`, which it raises as a syntax error
 * (graphql 16 words it "more that", a later release may fix the typo).
 */
export function isTokenLimitError(message: string): boolean {
  return /^Syntax Error: Document contains more th(?:an|at) \d+ tokens/.test(message);
}

/** Validation rules added to GraphQL's own. */
export function limitRules(exposeLimits: boolean): ValidationRule[] {
  // Report through the validation context like GraphQL's own rules (the default throws, which
  // servers treat as an unexpected failure), as an OperationLimitError naming the limit.
  const report = (limit: OperationLimit) => ({
    exposeLimits,
    propagateOnRejection: false,
    onReject: [reportTo(limit)],
  });
  return [
    maxDepthRule({ n: operationLimits.maxDepth, ignoreIntrospection: true, ...report('maxDepth') }),
    maxAliasesRule({ n: operationLimits.maxAliases, ...report('maxAliases') }),
    maxDirectivesRule({ n: operationLimits.maxDirectives, ...report('maxDirectives') }),
    costRule({ maxCost: operationLimits.maxCost, exposeLimits, reject: reportTo('maxCost') }),
  ];
}

function reportTo(limit: OperationLimit) {
  return (context: ValidationContext | null, error: GraphQLError): void => {
    // graphql-armor words every rejection as a "Syntax Error", which it is not.
    context?.reportError(new OperationLimitError(limit, error.message.replace(/^Syntax Error: /, '')));
  };
}

export function allRules(exposeLimits: boolean): ValidationRule[] {
  return [...specifiedRules, ...limitRules(exposeLimits)];
}

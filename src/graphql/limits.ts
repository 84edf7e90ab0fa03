import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { specifiedRules, type GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Limits on what one operation may ask for, the same over HTTP and graphql-ws. Sized for the front
 * end's heaviest screen (a patient with care team, measures, alerts and plans) with room to spare.
 */
export const operationLimits = {
  maxTokens: 2000,
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxCost: 5000,
} as const;

/** Validation rules added to GraphQL's own. */
export function limitRules(exposeLimits: boolean): ValidationRule[] {
  // Report through the validation context like GraphQL's own rules (the default throws, which
  // servers treat as an unexpected failure).
  const report = { exposeLimits, propagateOnRejection: false, onReject: [reportTo] };
  return [
    maxDepthRule({ n: operationLimits.maxDepth, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: operationLimits.maxAliases, ...report }),
    maxDirectivesRule({ n: operationLimits.maxDirectives, ...report }),
    costLimitRule({ maxCost: operationLimits.maxCost, ignoreIntrospection: true, ...report }),
  ];
}

function reportTo(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(error);
}

export function allRules(exposeLimits: boolean): ValidationRule[] {
  return [...specifiedRules, ...limitRules(exposeLimits)];
}

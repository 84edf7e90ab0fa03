import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { specifiedRules, type ValidationRule } from 'graphql';

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
  return [
    maxDepthRule({ n: operationLimits.maxDepth, exposeLimits, ignoreIntrospection: true }),
    maxAliasesRule({ n: operationLimits.maxAliases, exposeLimits }),
    maxDirectivesRule({ n: operationLimits.maxDirectives, exposeLimits }),
    costLimitRule({ maxCost: operationLimits.maxCost, exposeLimits, ignoreIntrospection: true }),
  ];
}

export function allRules(exposeLimits: boolean): ValidationRule[] {
  return [...specifiedRules, ...limitRules(exposeLimits)];
}

import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { textRefusal, type TextKind } from '../domain/text';
import { badInput } from '../errors';

/**
 * The text inputs that are free-form, by schema coordinate (`Type.field` for an input field,
 * `Type.field(arg:)` for an argument): they keep line breaks and tabs. Every other String or ID
 * input, whatever field it belongs to now or later, is one line.
 */
export const FREE_TEXT_INPUTS: ReadonlySet<string> = new Set([
  'Mutation.updatePlanSection(text:)',
  'Mutation.writePsychotherapyNote(text:)',
  'Mutation.voidPrescription(reason:)',
  'Mutation.correctPrescription(reason:)',
  'Mutation.changePatientStatus(reason:)',
  'Mutation.withdrawConsent(reason:)',
  'RecordEligibilityAssessmentInput.cautions',
  'CompleteDosingSessionInput.bloodPressureOverrideReason',
  'CompleteDosingSessionInput.doseSpacingOverrideReason',
]);

/**
 * Every text input refuses control characters (src/domain/text.ts) before any resolver sees it,
 * over every transport: each field with arguments checks them, as GraphQL coerced them, down
 * through input objects and lists. Refused as BAD_USER_INPUT naming the input (`input.lastName`),
 * instead of reaching PostgreSQL (which refuses NUL as an internal error) or a log.
 */
export function guardTextInputs(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args.some((arg) => carriesText(arg.type))) continue;
      const check = (args: Record<string, unknown>) => {
        for (const arg of field.args)
          checkValue(args[arg.name], arg.type, arg.name, kindOf(`${type.name}.${field.name}(${arg.name}:)`));
      };
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        check(args);
        return resolve(source, args, context, info);
      };
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args, context, info) => {
          check(args);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
}

const kindOf = (coordinate: string): TextKind => (FREE_TEXT_INPUTS.has(coordinate) ? 'freeText' : 'line');

/** Whether a String or ID can appear anywhere inside values of `type`. */
function carriesText(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (named.name === 'String' || named.name === 'ID') return true;
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((field) => carriesText(field.type, seen));
}

function checkValue(value: unknown, type: GraphQLInputType, path: string, kind: TextKind): void {
  if (value === null || value === undefined) return;
  if (isNonNullType(type)) return checkValue(value, type.ofType, path, kind);
  if (isListType(type)) {
    (value as unknown[]).forEach((item, index) => checkValue(item, type.ofType, `${path}[${index}]`, kind));
    return;
  }
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      checkValue(
        (value as Record<string, unknown>)[field.name],
        field.type,
        `${path}.${field.name}`,
        kindOf(`${type.name}.${field.name}`),
      );
    }
    return;
  }
  if ((type.name === 'String' || type.name === 'ID') && typeof value === 'string') {
    const refusal = textRefusal(value, kind);
    if (refusal) throw badInput(`${path} ${refusal}`);
  }
}

/**
 * Stage: admission limits. Before the text is parsed, its size and tokens (a huge document costs
 * no more than the limit to refuse), then validation against the fields the consumer may see, so
 * that no error names another (consumer-validation.ts). Once Apollo Server has parsed and
 * validated it: variables no deeper than the limit, an operation the document has, then depth,
 * aliases, root fields and cost (operation-limits.ts), costed with the variables' coerced values
 * (defaults included), as the operation will run.
 */
import { getVariableValues } from 'graphql';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';
import { checkOperationLimits, checkSourceLimits, limitError } from '../operation-limits.ts';
import { createConsumerValidator } from '../consumer-validation.ts';
import { variablesTooDeep, variablesTooDeepError } from '../variable-depth.ts';
import type { NamedCaches } from '../../lib/lru-cache.ts';
import type { Stage } from './stage.ts';

export function admissionLimitsStage({
  defaultListSize,
  caches,
}: {
  defaultListSize: number;
  caches?: NamedCaches | undefined;
}): Stage {
  const consumerValidation = createConsumerValidator(caches);
  return {
    name: 'admission limits',
    received({ request, context, schema }) {
      if (request.query === undefined) return;
      const violation = checkSourceLimits(request.query, context.limits);
      if (violation) throw limitError(violation);
      const hidden = consumerValidation.check(schema, request.query, context.identity);
      if (hidden) throw hidden;
    },
    resolved({ schema, document, operation, variables, context }) {
      if (variablesTooDeep(variables)) throw variablesTooDeepError();
      if (!operation) {
        throw codedError(ErrorCode.OPERATION_RESOLUTION_FAILURE);
      }
      // The values the operation runs with: defaults included, coerced as execution will coerce them.
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
      // Variables that do not coerce are refused by execution, before any department is asked.
      if (!coerced.coerced) return;
      const violation = checkOperationLimits(
        { schema, document, operation, variables: coerced.coerced },
        context.limits,
        defaultListSize,
      );
      if (violation) throw limitError(violation);
    },
  };
}

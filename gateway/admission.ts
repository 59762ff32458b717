/**
 * Admission: what a request must pass after authentication and before the policy check, as one
 * Apollo Server plugin, in order:
 *   1. persisted operations (persisted-operations.ts): a hash becomes its registered text, and a
 *      persisted-only consumer's unregistered operation is refused;
 *   2. the source's size and tokens, before it is parsed (operation-limits.ts); then validation
 *      against the fields the consumer may see, so that no error names another (consumer-validation.ts);
 *   3. once parsed and validated: an operation must be named that the document has, then depth,
 *      aliases, root fields and cost (operation-limits.ts), costed with the variables' coerced
 *      values (defaults included), as the operation will run.
 *
 * Apollo Server answers an error thrown before parsing as an internal error (HTTP 500), and one
 * thrown from `didResolveOperation` as the error it is. So a refusal found before parsing is kept,
 * the request's text replaced by a stand-in that costs nothing to parse, and the refusal thrown
 * at `didResolveOperation`: nothing of the refused text is parsed, validated or executed.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, getVariableValues } from 'graphql';
import { codedError, ErrorCode } from '../lib/error-registry.ts';
import { checkOperationLimits, checkSourceLimits, limitError } from './operation-limits.ts';
import { createConsumerValidator } from './consumer-validation.ts';
import { resolvePersistedOperation, type OperationRegistry } from './persisted-operations.ts';
import type { GatewayContext } from './policy-gateway.ts';
import { variablesTooDeep, variablesTooDeepError } from './variable-depth.ts';

const STAND_IN = '{ __typename }';

export interface AdmissionOptions {
  registry: OperationRegistry;
  defaultListSize: number;
}

export function admissionPlugin(options: AdmissionOptions): ApolloServerPlugin<GatewayContext> {
  const consumerValidation = createConsumerValidator();
  return {
    requestDidStart: async ({ request, contextValue, schema }) => {
      const { limits } = contextValue;
      let refusal: GraphQLError | undefined;
      try {
        await resolvePersistedOperation(request, contextValue.identity.consumer, options.registry);
        const violation = request.query !== undefined ? checkSourceLimits(request.query, limits) : undefined;
        if (violation) throw limitError(violation);
        const hidden = request.query !== undefined ? consumerValidation.check(schema, request.query, contextValue.identity) : undefined;
        if (hidden) throw hidden;
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        refusal = error;
        request.query = STAND_IN;
        delete request.operationName;
      }
      return {
        didResolveOperation: async ({ schema, document, operation, request: resolved }) => {
          if (refusal) throw refusal;
          if (variablesTooDeep(resolved.variables)) throw variablesTooDeepError();
          if (!operation) {
            throw codedError(ErrorCode.OPERATION_RESOLUTION_FAILURE);
          }
          // The values the operation runs with: defaults included, coerced as execution will coerce them.
          const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], resolved.variables ?? {}, { maxErrors: 1 });
          // Variables that do not coerce are refused by execution, before any department is asked.
          if (!coerced.coerced) return;
          const violation = checkOperationLimits({ schema, document, operation, variables: coerced.coerced }, limits, options.defaultListSize);
          if (violation) throw limitError(violation);
        },
      };
    },
  };
}

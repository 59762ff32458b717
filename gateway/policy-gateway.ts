/**
 * @apollo/gateway with the request pipeline's execution stages around it (gateway/pipeline.ts).
 * Apollo Server has parsed, validated and admitted the operation; from the policy decision to
 * the version stamp, everything that happens to it and to its answer is a stage of the pipeline,
 * and the departments are called by the innermost one with @apollo/gateway's executor.
 */
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import { codedError, ErrorCode } from '../lib/error-registry.ts';
import type { Pipeline } from './pipeline.ts';
import { plannerKeysOf, type PlannerKeys } from './planner-keys.ts';
import type { GatewayContext } from './stages/stage.ts';

export type { GatewayContext, RequestIdentity } from './stages/stage.ts';
export { DOCUMENT_CACHE_BYTES } from './stages/policy-decision.ts';

export function withPipeline(gateway: GatewayInterface, pipeline: Pipeline): GatewayInterface {
  // Per schema: the API schema operations are validated against, and the response keys the
  // planner uses on each of its types (the key aliases stage moves a caller's alias off them).
  let apiSchema: GraphQLSchema | undefined;
  let plannerKeys: PlannerKeys = new Map();

  const pipelineExecutor =
    (executor: GatewayExecutor): GatewayExecutor =>
    async (requestContext) => {
      const { identity, access } = requestContext.context as Partial<GatewayContext>;
      // Authentication sets the identity before execution; without one, nothing is answered.
      if (!identity || !access) throw codedError(ErrorCode.UNAUTHENTICATED, undefined, {}, { inAnswer: true });
      if (!apiSchema) throw codedError(ErrorCode.INTERNAL_SERVER_ERROR, 'The gateway has no schema yet.');
      return pipeline.execute({
        requestContext,
        identity,
        access,
        apiSchema,
        plannerKeys,
        executor,
        document: requestContext.document,
        variables: requestContext.request.variables,
        verdict: null,
        fields: { fields: [], denied: [], masked: [] },
        added: [],
      });
    };

  return {
    onSchemaLoadOrUpdate: (callback) =>
      gateway.onSchemaLoadOrUpdate((schemaContext) => {
        apiSchema = schemaContext.apiSchema;
        plannerKeys = plannerKeysOf(schemaContext.coreSupergraphSdl);
        callback(schemaContext);
      }),
    load: async (options) => {
      const { executor } = await gateway.load(options);
      return { executor: executor && pipelineExecutor(executor) };
    },
    stop: () => gateway.stop(),
  };
}

/**
 * Policy enforcement inside a department's subgraph, so that the policy holds even for a request
 * that never passed the gateway's check. The stages `departmentStages` lists, in the order a
 * request meets them (the same onion as the gateway's pipeline: hooks on
 * the way in run left to right, on the way out right to left; middleware wraps the declared
 * resolvers outermost first):
 *
 *  0. identity (identity.ts): only an assertion signed by the gateway for this call is accepted;
 *     the server's context function runs this stage before anything else;
 *  1. operation guard: before anything executes, every field the operation selects (including
 *     default-resolved fields and entity fields under `_entities`) is decided for the asserted
 *     consumer and purpose; one denied field refuses the whole operation, so a mutation never
 *     runs with part of its payload denied;
 *  2. graphql-shield on every declared resolver, deny by default, with `_entities` and
 *     `_service` allowed explicitly;
 *  3. served subjects: the subjects of what a resolver returned, inside the shield and outside
 *     the record rules, so that only records the consumer may see name a subject;
 *  4. record rules: lists of record types are filtered by the consumer's record rule (history,
 *     disclosure windows) as they are resolved;
 *  5. masks: masked fields are rewritten in the response, whatever resolver produced them.
 *
 * Middleware wraps only declared resolvers (graphql-shield on every field made execution 6 to 12
 * times slower); the guard in step 1 is what makes rules hold on default-resolved fields, and it
 * is computed once per operation, consumer and policy version, not per row.
 */
import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestContextWillSendResponse,
} from '@apollo/server';
import { applyMiddlewareToDeclaredResolvers, type IMiddlewareFieldMap } from 'graphql-middleware';
import { allow, deny, rule, shield, type IRule, type IRules } from 'graphql-shield';
import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';
import { LruCache, type NamedCaches } from '../../lib/lru-cache.ts';
import type { ConsumerView, MaskName } from '../../lib/policy/decision/model.ts';
import { applyMask } from '../../lib/policy/decision/masks.ts';
import { forEachAtPath } from '../../lib/graphql/answer-walk.ts';
import { isRecordType, isRecordVisible, type DisclosureWindows } from '../../lib/policy/decision/records.ts';
import { disclosureWindowsByRecordType, loadCatalog } from '../../lib/policy/reference/catalog.ts';
import { collectRequestedFields } from '../../lib/policy/decision/operation-fields.ts';
import { servedSubjectsMiddleware } from './served-subjects.ts';
import { afterResolving } from './field-middleware.ts';
import { identityOfCall, type CallIdentity, type IdentityStageOptions } from './identity.ts';
import type { FastifyRequest } from 'fastify';

/** What enforcement needs in every request's context. */
export interface PolicyContext {
  view: ConsumerView;
  policyVersion: string;
  /** The moment the request is decided at (disclosure windows close on time). */
  now: Date;
}

const FEDERATION_FIELDS = new Set(['_entities', '_service']);

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/**
 * graphql-shield rules for every declared resolver of the schema: each asks the request's view.
 * One rule per field, each with its own name: shield's rule cache is keyed by name.
 */
function shieldRules(schema: GraphQLSchema): IRules {
  const rules: Record<string, Record<string, IRule | typeof allow>> = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.resolve) continue;
      const typeName = type.name;
      const fieldName = field.name;
      const fieldRule =
        FEDERATION_FIELDS.has(fieldName) && typeName === schema.getQueryType()?.name
          ? // Entity fields are guarded by type and field like any other; the entry points are open.
            allow
          : rule(`policy:${typeName}.${fieldName}`, { cache: 'no_cache' })(
              (_parent, _args, context: PolicyContext) => context.view.field(typeName, fieldName).effect !== 'deny',
            );
      (rules[typeName] ??= {})[fieldName] = fieldRule;
    }
  }
  return rules;
}

/**
 * A filter on every field that returns a list of a record type. Such fields must have a declared
 * resolver (a loader does that); one without would bypass the filter, so start-up refuses it.
 */
function recordFilters(schema: GraphQLSchema, windows: ReadonlyMap<string, DisclosureWindows>): IMiddlewareFieldMap {
  return afterResolving<PolicyContext>(schema, (type, field) => {
    const itemType = getNamedType(field.type);
    if (!isRecordType(itemType.name) || !isList(field.type)) return undefined;
    if (!field.resolve) {
      throw new Error(
        `${type.name}.${field.name} lists ${itemType.name} records without a resolver, so record rules could not filter it; declare one.`,
      );
    }
    const recordType = itemType.name;
    const typeWindows = windows.get(recordType);
    return (records, context) => {
      if (!Array.isArray(records)) return records;
      const recordRule = context.view.records(recordType);
      return (records as Record<string, unknown>[]).filter((record) =>
        isRecordVisible(recordType, record, recordRule, context.now, typeWindows),
      );
    };
  });
}

/** What the guard concluded about one operation for one view and policy version. */
interface OperationVerdict {
  denied: string[];
  masks: { path: readonly string[]; mask: MaskName }[];
}

function decideDepartmentOperation(
  requestContext: GraphQLRequestContextDidResolveOperation<PolicyContext>,
  schema: GraphQLSchema,
): OperationVerdict {
  const { view } = requestContext.contextValue;
  const denied = new Set<string>();
  const masks: OperationVerdict['masks'] = [];
  for (const field of collectRequestedFields(
    schema,
    requestContext.document,
    requestContext.operationName ?? undefined,
  )) {
    if (field.fieldName === '__typename' || FEDERATION_FIELDS.has(field.fieldName)) continue;
    const decision = view.field(field.typeName, field.fieldName);
    if (decision.effect === 'deny') denied.add(`${field.typeName}.${field.fieldName}`);
    else if (decision.effect === 'mask' && decision.mask) masks.push({ path: field.path, mask: decision.mask });
  }
  return { denied: [...denied].sort(), masks };
}

/** Masks the field at `path` of the answer wherever the answer holds it (each list item's, for a path through lists). */
function maskAt(data: unknown, path: readonly string[], mask: MaskName): void {
  forEachAtPath(data, path, (holder, key) => {
    if (!Object.hasOwn(holder, key)) return;
    const value = holder[key];
    if (value !== null && value !== undefined) holder[key] = applyMask(mask, value);
  });
}

/** The estimated bytes the verdict cache of one department may hold. */
const VERDICT_CACHE_BYTES = 32 * 1024 * 1024;

/** What the stages of one request share: the guard's verdict, which the masks apply. */
interface EnforcementState {
  verdict?: OperationVerdict;
}

/** A stage of a department's enforcement: middleware around the declared resolvers, and hooks around the operation. */
export interface DepartmentStage {
  readonly name: string;
  /** Before anything else, from the HTTP request: who asks (the identity stage, identity.ts). */
  readonly context?: (request: FastifyRequest) => Promise<CallIdentity>;
  /** Wraps the declared resolvers; the list's order is the wrapping order, outermost first. */
  readonly middleware?: IMiddlewareFieldMap | ReturnType<typeof shield>;
  /** Left to right, once the operation is resolved and before anything executes. */
  resolved?(request: GraphQLRequestContextDidResolveOperation<PolicyContext>, state: EnforcementState): Awaitable<void>;
  /** Right to left, on the answer about to be sent. */
  finish?(request: GraphQLRequestContextWillSendResponse<PolicyContext>, state: EnforcementState): Awaitable<void>;
}

type Awaitable<T> = T | Promise<T>;

export interface DepartmentStageOptions {
  /** Disclosure windows by record type; from the national catalog unless given. */
  windows?: ReadonlyMap<string, DisclosureWindows>;
  /** Operations whose verdict is kept. */
  cacheSize?: number;
  /** Where the verdict cache is named for the metrics. */
  caches?: NamedCaches | undefined;
  /** The identity stage's dependencies; without them (tests of the later stages alone) the list starts at the guard. */
  identity?: IdentityStageOptions;
}

/** Every enforcement stage of a department, in order. */
export function departmentStages(schema: GraphQLSchema, options: DepartmentStageOptions = {}): DepartmentStage[] {
  const windows = options.windows ?? disclosureWindowsByRecordType(loadCatalog());
  // A verdict holds field names and paths, a few per selected field: bounded by the source's size too.
  const verdicts = new LruCache<OperationVerdict>({
    maxEntries: options.cacheSize ?? 1000,
    maxBytes: VERDICT_CACHE_BYTES,
  });
  options.caches?.set('verdicts', verdicts);
  return [
    ...(options.identity ? [{ name: 'identity', context: identityOfCall(options.identity) }] : []),
    {
      name: 'operation guard',
      resolved(requestContext, state) {
        const { view, policyVersion } = requestContext.contextValue;
        const key = `${policyVersion}|${view.key}|${requestContext.operationName ?? ''}|${requestContext.queryHash}`;
        const verdict = verdicts.get(
          key,
          () => decideDepartmentOperation(requestContext, schema),
          requestContext.source.length * 2,
        );
        state.verdict = verdict;
        if (verdict.denied.length > 0) {
          throw codedError(
            ErrorCode.FORBIDDEN,
            `This operation selects fields your policy denies: ${verdict.denied.join(', ')}.`,
            {
              deniedFields: verdict.denied,
            },
            { inAnswer: true },
          );
        }
      },
    },
    {
      name: 'shield',
      middleware: shield(shieldRules(schema), {
        fallbackRule: deny,
        // A resolver's own coded error (BAD_USER_INPUT, say) must reach the consumer as it is.
        allowExternalErrors: true,
        fallbackError: () => codedError(ErrorCode.FORBIDDEN, undefined, {}, { inAnswer: true }),
      }),
    },
    { name: 'served subjects', middleware: servedSubjectsMiddleware(schema) },
    { name: 'record rules', middleware: recordFilters(schema, windows) },
    {
      name: 'masks',
      finish(requestContext, { verdict }) {
        const body = requestContext.response.body;
        if (!verdict || verdict.masks.length === 0 || body.kind !== 'single' || !body.singleResult.data) return;
        for (const { path, mask } of verdict.masks) maskAt(body.singleResult.data, path, mask);
      },
    },
  ];
}

/** The identity stage's hook: a department without one would answer anyone, so it does not start. */
export function callIdentityOf(stages: readonly DepartmentStage[]): (request: FastifyRequest) => Promise<CallIdentity> {
  const identity = stages.find((stage) => stage.context !== undefined)?.context;
  if (!identity) throw new Error('a department needs the identity stage first in its stages');
  return identity;
}

/** The subgraph schema with the stages' middleware applied to its declared resolvers, in list order. */
export function enforceOnSchema(
  schema: GraphQLSchema,
  stages: readonly DepartmentStage[] = departmentStages(schema),
): GraphQLSchema {
  return applyMiddlewareToDeclaredResolvers(
    schema,
    ...stages.flatMap((stage) => (stage.middleware ? [stage.middleware] : [])),
  );
}

/** The stages' hooks around the operation, as one Apollo Server plugin. */
export function policyPlugin(
  schema: GraphQLSchema,
  stages: readonly DepartmentStage[] = departmentStages(schema),
): ApolloServerPlugin<PolicyContext> {
  const resolving = stages.filter((stage) => stage.resolved !== undefined);
  const finishing = stages.filter((stage) => stage.finish !== undefined).reverse();
  return {
    async requestDidStart() {
      const state: EnforcementState = {};
      return {
        async didResolveOperation(requestContext) {
          for (const stage of resolving) await stage.resolved?.(requestContext, state);
        },
        async willSendResponse(requestContext) {
          for (const stage of finishing) await stage.finish?.(requestContext, state);
        },
      };
    },
  };
}

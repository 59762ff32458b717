/**
 * What a department is, for the subgraph runtime: a name, its mongoose models, the per-request
 * DataLoaders over them, its resolvers and its seed data. Its SDL is `schema/<name>.graphql`.
 * Adding a sixth department means writing one more object of this shape.
 */
import type { DocumentNode } from 'graphql';
import type { Connection, Model } from 'mongoose';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { SeedSubject } from './seed-subjects.ts';
import type { ServedSubjectsContext } from './served-subjects.ts';
import type { WriteContext } from './writes.ts';

/** Inserts those of `documents` whose `_id` is not stored yet; returns how many it inserted. */
export type SeedWriter = <T extends { _id: string }>(model: Model<T>, documents: readonly T[]) => Promise<number>;

/**
 * What every resolver receives, as the subgraph server builds it for each request
 * (runtime/server.ts): the department's models and this request's loaders (fresh per request,
 * so nothing leaks between requests), the caller's policy view, version and moment, the catalog
 * in force and the caller's competence (writes), and the subjects served (the access log).
 */
export interface RequestContext<Models, Loaders> extends WriteContext, ServedSubjectsContext {
  models: Models;
  loaders: Loaders;
}

export interface Department<Models, Loaders> {
  /** Subgraph name, also its SDL file name and database suffix. */
  name: string;
  /** The department in words, for logs and the README. */
  title: string;
  /** Its SDL, for a department whose SDL is not `schema/<name>.graphql` (a test's sample department). */
  sdl?: DocumentNode;
  defineModels(connection: Connection): Models;
  /** A department whose records are never joined per subject (the access log, searched) has none. */
  createLoaders?(models: Models): Loaders;
  resolvers: GraphQLResolverMap<RequestContext<Models, Loaders>>;
  /**
   * Writes this department's records for the given subjects through `write`, returning how many
   * were new, dated relative to `referenceDate` (the seed's "today"); absent for a department
   * with nothing to seed (the access log, written by gateways).
   */
  seed?(models: Models, subjects: readonly SeedSubject[], write: SeedWriter, referenceDate: Date): Promise<number>;
}

/**
 * Identity function that lets TypeScript infer a department's Models and Loaders, and keeps what
 * the department defines (its loaders, its seed) known to be there.
 */
export function defineDepartment<Models, Loaders, D extends Department<Models, Loaders>>(
  department: D & Department<Models, Loaders>,
): D {
  return department;
}

/** A department whose model and loader types are no longer needed (the runtime treats all alike). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDepartment = Department<any, any>;

import { defineDepartment } from '../runtime/department.ts';
import { createLoaders } from './loaders.ts';
import { defineModels } from './models.ts';
import { resolvers } from './resolvers.ts';
import { seed } from './seed.ts';

/** The privacy office's view of the access log (written by the gateways, read here). */
export const audit = defineDepartment({
  name: 'audit',
  title: 'Access log (privacy office)',
  defineModels,
  createLoaders,
  resolvers,
  seed,
});

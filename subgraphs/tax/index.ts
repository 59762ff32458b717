import { defineDepartment } from '../runtime/department.ts';
import { createLoaders } from './loaders.ts';
import { defineModels } from './models.ts';
import { resolvers } from './resolvers.ts';
import { seed } from './seed.ts';

export const tax = defineDepartment({
  name: 'tax',
  title: 'Taxation',
  defineModels,
  createLoaders,
  resolvers,
  seed,
});

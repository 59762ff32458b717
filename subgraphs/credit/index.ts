import { defineDepartment } from '../runtime/department.ts';
import { createLoaders } from './loaders.ts';
import { defineModels } from './models.ts';
import { resolvers } from './resolvers.ts';
import { seed } from './seed.ts';

export const credit = defineDepartment({
  name: 'credit',
  title: 'Credit office (development and reform)',
  defineModels,
  createLoaders,
  resolvers,
  seed,
});

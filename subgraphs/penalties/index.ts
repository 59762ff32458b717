import { defineDepartment } from '../runtime/department.ts';
import { createLoaders } from './loaders.ts';
import { defineModels } from './models.ts';
import { resolvers } from './resolvers.ts';
import { seed } from './seed.ts';

export const penalties = defineDepartment({
  name: 'penalties',
  title: 'Regulators (ecology and environment, drug administration, emergency management, ...)',
  defineModels,
  createLoaders,
  resolvers,
  seed,
});

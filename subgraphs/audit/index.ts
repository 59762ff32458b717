import { defineDepartment } from '../runtime/department.ts';
import { defineModels } from './models.ts';
import { resolvers } from './resolvers.ts';

/**
 * The privacy office's view of the access log (written by the gateways, read here). The log is
 * searched, never joined per subject, and nothing is seeded: no loaders, no seed.
 */
export const audit = defineDepartment({
  name: 'audit',
  title: 'Access log (privacy office)',
  defineModels,
  resolvers,
});

import { recordsBySubject } from '../runtime/loaders.ts';
import type { CreditModels } from './models.ts';

export function createLoaders(models: CreditModels) {
  return {
    listings: recordsBySubject(models.Listing, { uscc: 1, listedOn: -1 }, 'id'),
    restorationApplications: recordsBySubject(models.RestorationApplication, { uscc: 1, appliedOn: -1 }, 'id'),
  };
}

export type CreditLoaders = ReturnType<typeof createLoaders>;

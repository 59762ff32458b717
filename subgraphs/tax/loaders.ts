import { recordsBySubject } from '../runtime/loaders.ts';
import type { TaxModels } from './models.ts';

export function createLoaders(models: TaxModels) {
  return {
    violations: recordsBySubject(models.ViolationCase, { uscc: 1, decidedOn: -1 }, 'caseNumber'),
    creditRatings: recordsBySubject(models.CreditRating, { uscc: 1, year: -1 }),
    payments: recordsBySubject(models.TaxPayment, { uscc: 1, year: -1 }),
  };
}

export type TaxLoaders = ReturnType<typeof createLoaders>;

import { recordsBySubject } from '../runtime/loaders.ts';
import type { JudicialModels } from './models.ts';

export function createLoaders(models: JudicialModels) {
  return {
    debtorEntries: recordsBySubject(models.DebtorEntry, { uscc: 1, listedOn: -1 }),
    consumptionRestrictions: recordsBySubject(models.ConsumptionRestriction, { uscc: 1, issuedOn: -1 }),
  };
}

export type JudicialLoaders = ReturnType<typeof createLoaders>;

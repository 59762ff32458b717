import { recordsBySubject } from '../runtime/loaders.ts';
import type { JudicialModels } from './models.ts';

export function createLoaders(models: JudicialModels) {
  return {
    debtorEntries: recordsBySubject(models.DebtorEntry, { uscc: 1, listedOn: -1 }, 'caseNumber'),
    consumptionRestrictions: recordsBySubject(models.ConsumptionRestriction, { uscc: 1, issuedOn: -1 }, 'caseNumber'),
  };
}

export type JudicialLoaders = ReturnType<typeof createLoaders>;

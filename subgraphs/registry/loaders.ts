import { documentsById, recordsBySubject } from '../runtime/loaders.ts';
import type { RegistryModels } from './models.ts';

export function createLoaders(models: RegistryModels) {
  return {
    subject: documentsById(models.Subject, 'uscc'),
    annualReports: recordsBySubject(models.AnnualReport, { uscc: 1, year: -1 }),
    abnormalOperations: recordsBySubject(models.AbnormalOperation, { uscc: 1, listedOn: -1 }, 'id'),
  };
}

export type RegistryLoaders = ReturnType<typeof createLoaders>;

import { recordsBySubject } from '../runtime/loaders.ts';
import type { PenaltiesModels } from './models.ts';

export function createLoaders(models: PenaltiesModels) {
  return {
    penalties: recordsBySubject(models.Penalty, { uscc: 1, decidedOn: -1 }),
  };
}

export type PenaltiesLoaders = ReturnType<typeof createLoaders>;

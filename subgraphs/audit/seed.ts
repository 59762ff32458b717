import type { SeedWriter } from '../runtime/department.ts';
import type { SeedSubject } from '../runtime/seed-subjects.ts';
import type { AuditModels } from './models.ts';

/** The access log is written by gateways as requests are answered; there is nothing to seed. */
export async function seed(_models: AuditModels, _subjects: readonly SeedSubject[], _write: SeedWriter): Promise<number> {
  return 0;
}

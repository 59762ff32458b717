import type { AuditModels } from './models.ts';

/** The access log is searched, never joined per subject: no per-request loaders are needed. */
export function createLoaders(_models: AuditModels): Record<string, never> {
  return {};
}

export type AuditLoaders = ReturnType<typeof createLoaders>;

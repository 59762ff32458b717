/** Every department Credence ships, in the order they are started. A seventh is one more line here. */
import type { AnyDepartment } from './runtime/department.ts';
import { audit } from './audit/index.ts';
import { credit } from './credit/index.ts';
import { judicial } from './judicial/index.ts';
import { penalties } from './penalties/index.ts';
import { registry } from './registry/index.ts';
import { tax } from './tax/index.ts';

// The audit subgraph serves the access log to the privacy office; it holds no credit data.
export const departments: readonly AnyDepartment[] = [registry, judicial, tax, penalties, credit, audit];

export function departmentNamed(name: string): AnyDepartment {
  const department = departments.find((candidate) => candidate.name === name);
  if (!department)
    throw new Error(`Unknown department "${name}"; known: ${departments.map((d) => d.name).join(', ')}.`);
  return department;
}

/** Where `npm start` runs each department: ports 4001, 4002, ... in the order above. */
export function defaultSubgraphPort(name: string): number {
  return 4001 + departments.indexOf(departmentNamed(name));
}

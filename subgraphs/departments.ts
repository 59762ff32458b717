/** Every department Credence ships, in the order they are started. A sixth is one more line here. */
import type { AnyDepartment } from './runtime/department.ts';
import { credit } from './credit/index.ts';
import { judicial } from './judicial/index.ts';
import { penalties } from './penalties/index.ts';
import { registry } from './registry/index.ts';
import { tax } from './tax/index.ts';

export const departments: readonly AnyDepartment[] = [registry, judicial, tax, penalties, credit];

export function departmentNamed(name: string): AnyDepartment {
  const department = departments.find((candidate) => candidate.name === name);
  if (!department) throw new Error(`Unknown department "${name}"; known: ${departments.map((d) => d.name).join(', ')}.`);
  return department;
}

/** Where `npm start` runs each department: ports 4001, 4002, ... in the order above. */
export function defaultSubgraphPort(name: string): number {
  return 4001 + departments.indexOf(departmentNamed(name));
}

/** Where `npm start` keeps its embedded store, and the first query it suggests. */
import { fileURLToPath } from 'node:url';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';

export const DATA_DIRECTORY = fileURLToPath(new URL('../.data', import.meta.url));

/** Who the first query is sent as: a consumer of the shipped policy that may see all of it. */
export const SHOWCASE_CALLER = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' } as const;

/** The first seeded subjects likely to have records in every department (the serious cases). */
export function showcaseCandidates(count: number, seeded = Infinity): string[] {
  const codes: string[] = [];
  for (let index = 0; codes.length < count && index < seeded; index++) {
    const subject = seedSubject(index);
    if (subject.risk === 'serious') codes.push(subject.uscc);
  }
  return codes;
}

export function showcaseSubject(): string {
  return showcaseCandidates(1)[0] ?? seedSubject(0).uscc;
}

/** One subject with its records from all five departments, as the showcase caller may see them. */
export function firstQuery(uscc: string): string {
  return `{ subject(uscc: "${uscc}") { name status legalRepresentative { name } `
    + 'dishonestDebtorEntries { caseNumber court performanceStatus } '
    + 'taxViolations { caseNumber violationType decidedOn } '
    + 'administrativePenalties { decisionNumber category severity decidedOn } '
    + 'seriousDishonestyListings { listType listedOn basis { number issuedBy } } } }';
}

/** The department lists of `firstQuery`, one per department beyond the registry. */
export const FIRST_QUERY_LISTS = ['dishonestDebtorEntries', 'taxViolations', 'administrativePenalties', 'seriousDishonestyListings'] as const;

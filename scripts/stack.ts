/** Where `npm start` keeps its embedded store, and how it finds a subject worth showing. */
import { fileURLToPath } from 'node:url';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';

export const DATA_DIRECTORY = fileURLToPath(new URL('../.data', import.meta.url));

/** The first seeded subject with records in every department, for the first query to try. */
export function showcaseSubject(): string {
  for (let index = 0; ; index++) {
    const subject = seedSubject(index);
    if (subject.risk === 'serious') return subject.uscc;
  }
}

export function firstQuery(uscc: string): string {
  return `{ subject(uscc: "${uscc}") { name status legalRepresentative { name } dishonestDebtorEntries { caseNumber court performanceStatus } taxCreditRatings { year rating } administrativePenalties { decisionNumber category severity decidedOn } seriousDishonestyListings { listType listedOn basis { number issuedBy } } } }`;
}

import { documentNumber } from '../runtime/basis-document.ts';
import { addDays, recordCount, recordRandom, SEED_RECORDERS, type SeedSubject } from '../runtime/seed-subjects.ts';
import type { SeedWriter } from '../runtime/department.ts';
import type { CreditRatingDocument, TaxModels, TaxPaymentDocument, ViolationCaseDocument } from './models.ts';

const VIOLATIONS = ['TAX_EVASION', 'TAX_FRAUD_EXPORT_REBATE', 'FALSE_INVOICING', 'REFUSAL_TO_PAY', 'OBSTRUCTION'];
const RATINGS_BY_RISK = {
  clean: [
    ['A', 35],
    ['B', 50],
    ['M', 15],
  ],
  minor: [
    ['B', 55],
    ['M', 30],
    ['C', 15],
  ],
  troubled: [
    ['M', 30],
    ['C', 50],
    ['D', 20],
  ],
  serious: [
    ['C', 30],
    ['D', 70],
  ],
} as const;

export async function seed(
  models: TaxModels,
  subjects: readonly SeedSubject[],
  write: SeedWriter,
  referenceDate: Date,
): Promise<number> {
  const violations: ViolationCaseDocument[] = [];
  const ratings: CreditRatingDocument[] = [];
  const payments: TaxPaymentDocument[] = [];
  for (const subject of subjects) {
    const random = recordRandom(subject, 'tax');
    const bureau = `国家税务总局${subject.city}市税务局`;
    let amount = random.int(10_000, 20_000_000);
    for (let year = 2025; year >= 2021; year--) {
      ratings.push({
        _id: `${subject.uscc}:${year}`,
        uscc: subject.uscc,
        year,
        rating: random.weighted(RATINGS_BY_RISK[subject.risk]),
      });
      payments.push({ _id: `${subject.uscc}:${year}`, uscc: subject.uscc, year, amount });
      amount = Math.round(amount * (0.75 + random.next() * 0.4));
    }
    const count = recordCount(random, subject.risk, {
      clean: [0, 0],
      minor: [0, 0],
      troubled: [0, 1],
      serious: [0, 2],
    });
    for (let n = 0; n < count; n++) {
      const decidedOn = addDays(referenceDate, -random.int(20, 2000));
      const amountInvolved = random.int(200_000, 80_000_000);
      violations.push({
        _id: `TAX-${subject.division}-${subject.index}-${n + 1}`,
        uscc: subject.uscc,
        violationType: random.pick(VIOLATIONS),
        amountInvolved,
        penaltyAmount: Math.round(amountInvolved * random.pick([0.5, 1, 1.5, 2])),
        decision: {
          number: documentNumber(random, `${subject.city}税稽罚`, decidedOn),
          issuedBy: bureau,
          issuedOn: decidedOn,
        },
        decidedOn,
        recordedBy: SEED_RECORDERS.tax,
      });
    }
  }
  const counts = await Promise.all([
    write(models.ViolationCase, violations),
    write(models.CreditRating, ratings),
    write(models.TaxPayment, payments),
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

import {
  addDays,
  recordCount,
  recordRandom,
  removal,
  SEED_RECORDERS,
  type SeedSubject,
} from '../runtime/seed-subjects.ts';
import type { SeedWriter } from '../runtime/department.ts';
import type { ConsumptionRestrictionDocument, DebtorEntryDocument, JudicialModels } from './models.ts';

const OBLIGATIONS = [
  '支付货款及利息',
  '偿还借款本金及利息',
  '支付工程款',
  '支付劳动报酬',
  '返还租赁物并支付租金',
  '赔偿经济损失',
];

/** The day `days` after `start`, if it has come by the reference date. */
function endedBy(start: Date, days: number, referenceDate: Date): Date | null {
  const end = addDays(start, days);
  return end < referenceDate ? end : null;
}

export async function seed(
  models: JudicialModels,
  subjects: readonly SeedSubject[],
  write: SeedWriter,
  referenceDate: Date,
): Promise<number> {
  const entries: DebtorEntryDocument[] = [];
  const restrictions: ConsumptionRestrictionDocument[] = [];
  for (const subject of subjects) {
    const random = recordRandom(subject, 'judicial');
    const count = recordCount(random, subject.risk, {
      clean: [0, 0],
      minor: [0, 0],
      troubled: [0, 2],
      serious: [1, 3],
    });
    const court = `${subject.city}市${random.pick(['朝阳区', '海淀区', '中级', '南山区', '天河区', '西湖区'])}人民法院`;
    for (let n = 0; n < count; n++) {
      const listedOn = addDays(referenceDate, -random.int(5, 2200));
      const year = listedOn.getUTCFullYear();
      const caseNumber = `(${year})${subject.division.slice(0, 2)}${subject.division.slice(4)}执${subject.index}${n + 1}号`;
      const performanceStatus = random.weighted([
        ['NOT_PERFORMED', 60],
        ['PARTIALLY_PERFORMED', 25],
        ['PERFORMED', 15],
      ]);
      entries.push({
        _id: caseNumber,
        uscc: subject.uscc,
        court,
        basis: {
          number: `(${year - 1})${subject.division.slice(0, 2)}民初${random.int(100, 99999)}号`,
          issuedBy: court,
          issuedOn: addDays(listedOn, -random.int(60, 400)),
        },
        obligation: random.pick(OBLIGATIONS),
        performanceStatus,
        responsiblePerson: subject.legalRepresentative,
        listedOn,
        ...removal(
          performanceStatus === 'PERFORMED' ? endedBy(listedOn, random.int(30, 700), referenceDate) : null,
          'OBLIGATION_PERFORMED',
        ),
        recordedBy: SEED_RECORDERS.judicial,
      });
      if (random.chance(0.7)) {
        restrictions.push({
          _id: `${caseNumber}-限消`,
          uscc: subject.uscc,
          court,
          issuedOn: listedOn,
          liftedOn: performanceStatus === 'PERFORMED' ? endedBy(listedOn, random.int(30, 700), referenceDate) : null,
        });
      }
    }
  }
  const counts = await Promise.all([
    write(models.DebtorEntry, entries),
    write(models.ConsumptionRestriction, restrictions),
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

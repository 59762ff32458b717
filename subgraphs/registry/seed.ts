import {
  addDays,
  recordCount,
  recordRandom,
  removal,
  SEED_RECORDERS,
  type SeedSubject,
} from '../runtime/seed-subjects.ts';
import type { SeedWriter } from '../runtime/department.ts';
import { REMOVAL_GROUNDS } from './writes.ts';
import type { AbnormalOperationDocument, AnnualReportDocument, RegistryModels, SubjectDocument } from './models.ts';

const STREETS = [
  '建国路',
  '中山路',
  '人民路',
  '解放大道',
  '科技园路',
  '长江路',
  '和平街',
  '滨河大道',
  '工业园区一路',
  '高新大道',
];
const REASONS = ['ANNUAL_REPORT_NOT_FILED', 'UNREACHABLE_AT_ADDRESS', 'INFORMATION_NOT_DISCLOSED', 'FALSE_INFORMATION'];

export async function seed(
  models: RegistryModels,
  subjects: readonly SeedSubject[],
  write: SeedWriter,
  referenceDate: Date,
): Promise<number> {
  const subjectDocuments: SubjectDocument[] = [];
  const reports: AnnualReportDocument[] = [];
  const abnormal: AbnormalOperationDocument[] = [];
  for (const subject of subjects) {
    const random = recordRandom(subject, 'registry');
    const ageDays = random.int(200, 9000);
    const statusByRisk =
      subject.risk === 'serious'
        ? random.weighted([
            ['ACTIVE', 50],
            ['SUSPENDED', 25],
            ['REVOKED', 25],
          ])
        : random.weighted([
            ['ACTIVE', 92],
            ['SUSPENDED', 3],
            ['DEREGISTERED', 5],
          ]);
    subjectDocuments.push({
      _id: subject.uscc,
      name: subject.name,
      entityType: subject.entityType,
      status: statusByRisk,
      address: `${subject.city}市${random.pick(STREETS)}${random.int(1, 999)}号`,
      registeredCapital: random.pick([100_000, 500_000, 1_000_000, 5_000_000, 10_000_000, 50_000_000, 200_000_000]),
      establishedOn: addDays(referenceDate, -ageDays),
      legalRepresentative: subject.legalRepresentative,
    });
    const years = Math.min(5, Math.floor(ageDays / 365));
    let revenue = random.int(500_000, 500_000_000);
    for (let y = 1; y <= years; y++) {
      const year = 2026 - y;
      revenue = Math.round(revenue * (0.8 + random.next() * 0.5));
      const profit = Math.round(revenue * (random.next() * 0.25 - 0.05));
      reports.push({
        _id: `${subject.uscc}:${year}`,
        uscc: subject.uscc,
        year,
        revenue,
        profit,
        totalAssets: Math.round(revenue * (0.6 + random.next() * 2)),
      });
    }
    const entries = recordCount(random, subject.risk, {
      clean: [0, 0],
      minor: [0, 1],
      troubled: [1, 2],
      serious: [1, 3],
    });
    for (let n = 0; n < entries; n++) {
      const listedOn = addDays(referenceDate, -random.int(10, 2500));
      const reason = random.pick(REASONS);
      abnormal.push({
        _id: `AO-${subject.uscc}-${n + 1}`,
        uscc: subject.uscc,
        reason,
        listedOn,
        listedBy: `${subject.city}市市场监督管理局`,
        ...removal(
          random.chance(0.4) ? addDays(listedOn, random.int(30, 400)) : null,
          REMOVAL_GROUNDS.byValue[reason]?.[0] ?? 'LISTED_IN_ERROR',
        ),
        recordedBy: SEED_RECORDERS.registry,
      });
    }
  }
  const counts = await Promise.all([
    write(models.Subject, subjectDocuments),
    write(models.AnnualReport, reports),
    write(models.AbnormalOperation, abnormal),
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

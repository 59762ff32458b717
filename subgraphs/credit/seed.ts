import { documentNumber } from '../runtime/basis-document.ts';
import { addDays, recordCount, recordRandom, removal, type SeedSubject } from '../runtime/seed-subjects.ts';
import type { SeedWriter } from '../runtime/department.ts';
import { restorationSettings } from '../runtime/config.ts';
import type { CreditModels, ListingDocument, RestorationApplicationDocument } from './models.ts';

/** List type, the department that lists, its document prefix and the reason. */
const LIST_TYPES = [
  ['DISHONEST_JUDGMENT_DEBTOR', '人民法院', '执', '有履行能力而拒不履行生效法律文书确定的义务'],
  ['MAJOR_TAX_VIOLATION', '税务局', '税稽罚', '偷税数额较大且占应纳税额百分之十以上'],
  ['SERIOUS_ILLEGAL_DISHONESTY', '市场监督管理局', '市监处', '提交虚假材料骗取登记且情节严重'],
  ['ENVIRONMENTAL_SERIOUS_VIOLATION', '生态环境局', '环罚', '篡改伪造自动监测数据'],
  ['DRUG_VACCINE_SERIOUS_VIOLATION', '药品监督管理局', '药监罚', '生产销售不符合标准的疫苗'],
  ['ILLEGAL_FUNDRAISING', '地方金融管理局', '金管处', '非法吸收公众存款造成重大损失'],
  ['ONLINE_FRAUD', '公安局', '公网罚', '为电信网络诈骗犯罪提供帮助'],
] as const;

export async function seed(
  models: CreditModels,
  subjects: readonly SeedSubject[],
  write: SeedWriter,
  referenceDate: Date,
): Promise<number> {
  // Only serious subjects are listed for the kinds never restored (R6).
  const { nonRestorable } = restorationSettings();
  const restorable = LIST_TYPES.filter(([type]) => !nonRestorable.has(type));
  const listings: ListingDocument[] = [];
  const applications: RestorationApplicationDocument[] = [];
  for (const subject of subjects) {
    const random = recordRandom(subject, 'credit');
    const count = recordCount(random, subject.risk, {
      clean: [0, 0],
      minor: [0, 0],
      troubled: [0, 1],
      serious: [1, 2],
    });
    for (let n = 0; n < count; n++) {
      const [listType, department, prefix, reason] = random.pick(subject.risk === 'serious' ? LIST_TYPES : restorable);
      const listedOn = addDays(referenceDate, -random.int(10, 1600));
      const listedBy = `${subject.city}市${department}`;
      const expiry = addDays(listedOn, 3 * 365);
      const listing: ListingDocument = {
        _id: `SDL-${subject.uscc}-${n + 1}`,
        uscc: subject.uscc,
        listType,
        reason,
        basis: {
          number: documentNumber(random, `${subject.city}${prefix}`, listedOn),
          issuedBy: listedBy,
          issuedOn: addDays(listedOn, -random.int(5, 60)),
        },
        listedBy,
        listedOn,
        ...removal(expiry < referenceDate ? expiry : null, 'LISTING_PERIOD_EXPIRED'),
        restoredOn: null,
      };
      // Some subjects applied for restoration: approved where eligible, refused where excluded, or still pending.
      const appliedOn = addDays(listedOn, random.int(370, 700));
      if (!listing.removedOn && appliedOn < referenceDate && random.chance(0.5)) {
        let decidedOn: Date | null = random.chance(0.3) ? null : addDays(appliedOn, random.int(5, 20));
        if (decidedOn && decidedOn >= referenceDate) decidedOn = null;
        const status = decidedOn === null ? 'PENDING' : nonRestorable.has(listType) ? 'REJECTED' : 'APPROVED';
        if (status === 'APPROVED') listing.restoredOn = decidedOn;
        applications.push({
          _id: `CR-${subject.uscc}-${n + 1}`,
          uscc: subject.uscc,
          listingId: listing._id,
          appliedOn,
          status,
          decidedOn,
          decisionReason:
            status === 'PENDING'
              ? null
              : status === 'APPROVED'
                ? '已纠正失信行为并消除不良影响'
                : `${listType} 属于不予信用修复的严重失信情形`,
        });
      }
      listings.push(listing);
    }
  }
  const counts = await Promise.all([
    write(models.Listing, listings),
    write(models.RestorationApplication, applications),
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

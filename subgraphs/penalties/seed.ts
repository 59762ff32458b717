import { documentNumber } from '../runtime/basis-document.ts';
import { addDays, recordCount, recordRandom, SEED_RECORDERS, type SeedSubject } from '../runtime/seed-subjects.ts';
import type { SeedWriter } from '../runtime/department.ts';
import { restorationSettings } from '../runtime/config.ts';
import { penaltyKey, type PenaltiesModels, type PenaltyDocument } from './models.ts';

/** Category, regulator, legal basis and typical violation. */
const CATEGORIES = [
  ['POLLUTION', '生态环境局', '《中华人民共和国大气污染防治法》第九十九条', '超标排放大气污染物'],
  ['POLLUTION', '生态环境局', '《中华人民共和国水污染防治法》第八十三条', '通过暗管排放水污染物'],
  ['WORK_SAFETY', '应急管理局', '《中华人民共和国安全生产法》第九十九条', '未按规定对安全设备进行检测'],
  ['FOOD_SAFETY', '市场监督管理局', '《中华人民共和国食品安全法》第一百二十四条', '生产经营超范围使用食品添加剂的食品'],
  ['PRICE_VIOLATION', '市场监督管理局', '《中华人民共和国价格法》第四十条', '不执行政府指导价'],
  ['DRUG_QUALITY', '药品监督管理局', '《中华人民共和国药品管理法》第一百一十七条', '生产销售劣药'],
  ['VACCINE_QUALITY', '药品监督管理局', '《中华人民共和国疫苗管理法》第八十条', '生产销售的疫苗属于劣药'],
  ['ILLEGAL_FUNDRAISING', '地方金融管理局', '《防范和处置非法集资条例》第三十条', '非法吸收公众存款'],
  [
    'ONLINE_FRAUD',
    '公安局网络安全保卫部门',
    '《中华人民共和国反电信网络诈骗法》第三十八条',
    '为电信网络诈骗提供支付结算帮助',
  ],
] as const;

export async function seed(
  models: PenaltiesModels,
  subjects: readonly SeedSubject[],
  write: SeedWriter,
  referenceDate: Date,
): Promise<number> {
  // The categories never restored (R6) are the particularly serious ones: SERIOUS, never restored.
  const { nonRestorable } = restorationSettings();
  // Serious subjects draw from every category; others only from the ordinary ones.
  const ordinary = CATEGORIES.filter(([category]) => !nonRestorable.has(category));
  const penalties: PenaltyDocument[] = [];
  for (const subject of subjects) {
    const random = recordRandom(subject, 'penalties');
    const count = recordCount(random, subject.risk, {
      clean: [0, 0],
      minor: [1, 2],
      troubled: [1, 3],
      serious: [2, 4],
    });
    for (let n = 0; n < count; n++) {
      const [category, regulator, legalBasis, violation] = random.pick(
        subject.risk === 'serious' ? CATEGORIES : ordinary,
      );
      const severity = nonRestorable.has(category)
        ? 'SERIOUS'
        : random.weighted(
            subject.risk === 'minor'
              ? [
                  ['MINOR', 50],
                  ['GENERAL', 45],
                  ['SERIOUS', 5],
                ]
              : [
                  ['MINOR', 20],
                  ['GENERAL', 50],
                  ['SERIOUS', 30],
                ],
          );
      // Spread over five years: some inside their disclosure window, some past it.
      const decidedOn = addDays(referenceDate, -random.int(3, 1800));
      const penaltyType =
        severity === 'SERIOUS'
          ? random.pick(['FINE', 'CONFISCATION', 'SUSPENSION', 'LICENCE_REVOCATION'])
          : random.pick(['WARNING', 'FINE']);
      const restoredOn =
        !nonRestorable.has(category) && severity !== 'MINOR' && random.chance(0.25)
          ? addDays(decidedOn, severity === 'SERIOUS' ? random.int(370, 800) : random.int(95, 300))
          : null;
      const decisionNumber = documentNumber(random, `${subject.city}${regulator.slice(0, 2)}罚`, decidedOn).replace(
        '号',
        `-${subject.index}-${n + 1}号`,
      );
      const authority = `${subject.city}市${regulator}`;
      penalties.push({
        _id: penaltyKey(authority, decisionNumber),
        decisionNumber,
        uscc: subject.uscc,
        authority,
        legalBasis,
        violation,
        category,
        penaltyType,
        fineAmount: penaltyType === 'WARNING' ? 0 : random.int(5, 2000) * 1000,
        severity,
        decidedOn,
        restoredOn: restoredOn && restoredOn < referenceDate ? restoredOn : null,
        ...(SEED_RECORDERS.penalties[regulator] ? { recordedBy: SEED_RECORDERS.penalties[regulator] } : {}),
      });
    }
  }
  return write(models.Penalty, penalties);
}

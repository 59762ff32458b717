/**
 * The credit subjects every department's seed data is about. Subject `i` is the same on every run
 * and machine (its own PRNG stream), so a larger seed run extends a smaller one without changing it.
 */
import { completeUscc, USCC_CHARSET } from '../../lib/uscc.ts';
import { residentIdCheckCharacter } from '../../lib/resident-id.ts';
import { createRandom, deriveSeed, type Random } from '../../lib/random.ts';

export const SEED = 20_191_225;

/**
 * The day seed dates are relative to by default, so the data set is identical whenever it is
 * generated (the tools' SEED_REFERENCE_DATE, scripts/config.ts, names another). Tests seed
 * relative to the real date instead (`seedAll`'s `referenceDate`), so that records inside and
 * past their windows exist whenever they run.
 */
export const SEED_REFERENCE_DATE = new Date('2026-11-01T00:00:00Z');

/** How much trouble a subject is in: departments draw their records from it, so records correlate. */
export type RiskProfile = 'clean' | 'minor' | 'troubled' | 'serious';

export interface NaturalPerson {
  name: string;
  idNumber: string;
  phone: string;
}

export interface SeedSubject {
  index: number;
  uscc: string;
  name: string;
  city: string;
  division: string;
  entityType: string;
  risk: RiskProfile;
  legalRepresentative: NaturalPerson;
  /** A seed for this subject's records, to be mixed with the department name. */
  seed: number;
}

const DIVISIONS: readonly (readonly [string, string])[] = [
  ['110105', '北京'],
  ['110108', '北京'],
  ['310115', '上海'],
  ['310104', '上海'],
  ['440305', '深圳'],
  ['440106', '广州'],
  ['330106', '杭州'],
  ['320505', '苏州'],
  ['510107', '成都'],
  ['420106', '武汉'],
  ['410105', '郑州'],
  ['370202', '青岛'],
  ['500103', '重庆'],
  ['610113', '西安'],
  ['120116', '天津'],
];
const BRANDS = [
  '华信',
  '宏达',
  '恒通',
  '金桥',
  '瑞丰',
  '鼎盛',
  '嘉禾',
  '远航',
  '正泰',
  '新元',
  '天成',
  '博远',
  '中联',
  '汇丰',
  '永安',
  '凯旋',
  '星辰',
  '绿源',
  '安泰',
  '蓝海',
];
const INDUSTRIES = [
  '科技',
  '贸易',
  '建设工程',
  '医药',
  '食品',
  '物流',
  '环保',
  '电子',
  '化工',
  '生物制品',
  '网络科技',
  '投资咨询',
  '农业发展',
  '机械制造',
];
const SUFFIXES: readonly (readonly [string, string, number])[] = [
  ['有限公司', 'LIMITED_LIABILITY_COMPANY', 70],
  ['股份有限公司', 'JOINT_STOCK_COMPANY', 10],
  ['合伙企业', 'PARTNERSHIP', 5],
  ['个人独资企业', 'SOLE_PROPRIETORSHIP', 5],
  ['专业合作社', 'FARMERS_COOPERATIVE', 3],
  ['经营部', 'INDIVIDUAL_BUSINESS', 7],
];
const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '赵',
  '黄',
  '周',
  '吴',
  '徐',
  '孙',
  '胡',
  '朱',
  '高',
  '林',
  '何',
  '郭',
  '马',
  '罗',
];
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀英',
  '建华',
  '志强',
  '海燕',
  '丽',
  '斌',
  '婷',
];

/** GB 11643 resident ID: division, birth date, sequence, ISO 7064 MOD 11-2 check character. */
export function residentIdNumber(random: Random, division: string): string {
  const birth = new Date(Date.UTC(random.int(1955, 2000), random.int(0, 11), random.int(1, 28)));
  const body =
    division + birth.toISOString().slice(0, 10).replaceAll('-', '') + String(random.int(0, 999)).padStart(3, '0');
  return body + residentIdCheckCharacter(body);
}

export function mobilePhone(random: Random): string {
  return `1${random.pick(['3', '5', '7', '8', '9'])}${String(random.int(0, 999_999_999)).padStart(9, '0')}`;
}

export function personName(random: Random): string {
  return random.pick(SURNAMES) + random.pick(GIVEN) + (random.chance(0.5) ? random.pick(GIVEN) : '');
}

export function naturalPerson(random: Random, division: string): NaturalPerson {
  return { name: personName(random), idNumber: residentIdNumber(random, division), phone: mobilePhone(random) };
}

/** Subject `index` of the data set. */
export function seedSubject(index: number): SeedSubject {
  const seed = deriveSeed(SEED, `subject:${index}`);
  const random = createRandom(seed);
  const [division, city] = random.pick(DIVISIONS);
  const suffix = random.weighted(SUFFIXES.map((entry) => [entry, entry[2]] as const));
  // The organisation code encodes the index, so two subjects never share a code.
  const organisation = encodeOrganisationCode(index, random);
  const uscc = completeUscc(
    `9${suffix[1] === 'INDIVIDUAL_BUSINESS' ? '2' : suffix[1] === 'FARMERS_COOPERATIVE' ? '3' : '1'}${division}${organisation}`,
  );
  return {
    index,
    uscc,
    name: `${city}${random.pick(BRANDS)}${random.pick(INDUSTRIES)}${suffix[0]}`,
    city,
    division,
    entityType: suffix[1],
    risk: random.weighted<RiskProfile>([
      ['clean', 60],
      ['minor', 25],
      ['troubled', 11],
      ['serious', 4],
    ]),
    legalRepresentative: naturalPerson(random, division),
    seed,
  };
}

function encodeOrganisationCode(index: number, random: Random): string {
  // 8 characters: 5 from the index in base 31 (room for 28 million subjects), 3 random.
  let value = index;
  let encoded = '';
  for (let i = 0; i < 5; i++) {
    encoded = USCC_CHARSET.charAt(value % 31) + encoded;
    value = Math.floor(value / 31);
  }
  for (let i = 0; i < 3; i++) encoded += USCC_CHARSET.charAt(random.int(0, 30));
  return encoded;
}

export function seedSubjects(count: number): SeedSubject[] {
  return Array.from({ length: count }, (_, index) => seedSubject(index));
}

/** A PRNG for one department's records about one subject. */
export function recordRandom(subject: SeedSubject, department: string): Random {
  return createRandom(deriveSeed(subject.seed, department));
}

/**
 * The department consumers of the demo policy (policies/departments.yaml) that own seeded records,
 * so that a demo can remove or correct them; only the recording department may.
 */
export const SEED_RECORDERS = {
  registry: 'market-regulation-bureau',
  judicial: 'people-court',
  tax: 'tax-inspection',
  /** Penalties by the regulator that decided them (the other regulators have no demo consumer). */
  penalties: { 生态环境局: 'ecology-bureau', 药品监督管理局: 'drug-administration' } as Readonly<
    Record<string, string>
  >,
} as const;

/** A seeded removal: the date, and the legal ground when there is one. */
export function removal(
  removedOn: Date | null,
  reason: string,
): { removedOn: Date | null; removalReason: string | null } {
  return { removedOn, removalReason: removedOn ? reason : null };
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

/** How many records of a kind a subject gets, by its risk profile. */
export function recordCount(
  random: Random,
  risk: RiskProfile,
  perProfile: Record<RiskProfile, readonly [number, number]>,
): number {
  const [min, max] = perProfile[risk];
  return random.int(min, max);
}

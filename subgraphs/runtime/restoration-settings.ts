/**
 * Credit restoration settings (R5, R6): parsing and checking the variables, so that a typo stops
 * the start-up rather than make a category restorable or every record eligible at once. The
 * department's configuration (config.ts) reads them; docs/configuration.md lists them.
 */
import { Kind, type DocumentNode } from 'graphql';
import type { Environment } from '../../lib/config/read.ts';
import { subgraphSdl } from './sdl.ts';

export interface RestorationSettings {
  /**
   * The list types and penalty categories never restored (R6): the particularly serious cases,
   * whose history stays findable. A penalty in one of these categories is always SERIOUS.
   */
  nonRestorable: ReadonlySet<string>;
  /** Days a listing stays published before restoration may be applied for. */
  listingMinimumDays: number;
  /** Days a penalty stays published before it may be restored, by severity; a severity not named is never published, so never restored. */
  penaltyMinimumDays: Readonly<Record<string, number>>;
}

/** The enum values the settings may name, from the departments' schemas. */
export interface RestorationVocabulary {
  listTypes: readonly string[];
  penaltyCategories: readonly string[];
  severities: readonly string[];
}

const DEFAULTS = {
  CREDENCE_NON_RESTORABLE_CATEGORIES: 'ONLINE_FRAUD,ILLEGAL_FUNDRAISING,VACCINE_QUALITY,DRUG_VACCINE_SERIOUS_VIOLATION',
  CREDENCE_RESTORATION_MINIMUM_DAYS: '365',
  CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS: 'GENERAL=90,SERIOUS=365',
};

/** Settings this module replaced: a deployment that still sets one must not believe it in force. */
const REPLACED = ['CREDENCE_NON_RESTORABLE_LIST_TYPES', 'CREDENCE_NON_RESTORABLE_PENALTY_CATEGORIES'];

function enumValues(department: string, document: DocumentNode, enumName: string): string[] {
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === enumName) {
      return (definition.values ?? []).map((value) => value.name.value);
    }
  }
  throw new Error(`schema/${department}.graphql has no enum ${enumName}.`);
}

function schemaVocabulary(): RestorationVocabulary {
  const credit = subgraphSdl('credit');
  const penalties = subgraphSdl('penalties');
  return {
    listTypes: enumValues('credit', credit, 'ListType'),
    penaltyCategories: enumValues('penalties', penalties, 'PenaltyCategory'),
    severities: enumValues('penalties', penalties, 'Severity'),
  };
}

function days(name: string, raw: string): number {
  // A typo must not make every record eligible at once (NaN compares false).
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number of days, got "${raw}".`);
  return Number(raw);
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export function readRestorationSettings(
  env: Environment,
  vocabulary: RestorationVocabulary = schemaVocabulary(),
): RestorationSettings {
  const replaced = REPLACED.filter((name) => env[name] !== undefined);
  if (replaced.length > 0) {
    throw new Error(
      `${replaced.join(' and ')} ${replaced.length > 1 ? 'were' : 'was'} replaced by CREDENCE_NON_RESTORABLE_CATEGORIES, one list of the list types and penalty categories never restored.`,
    );
  }
  const setting = (name: keyof typeof DEFAULTS): string => env[name] ?? DEFAULTS[name];

  const nonRestorable = list(setting('CREDENCE_NON_RESTORABLE_CATEGORIES'));
  const known = new Set([...vocabulary.listTypes, ...vocabulary.penaltyCategories]);
  const unknown = nonRestorable.filter((kind) => !known.has(kind));
  if (unknown.length > 0) {
    throw new Error(
      `CREDENCE_NON_RESTORABLE_CATEGORIES names ${unknown.join(', ')}, neither a list type nor a penalty category; known: ${[...known].sort().join(', ')}.`,
    );
  }

  const penaltyMinimumDays = Object.fromEntries(
    list(setting('CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS')).map((pair) => {
      const [severity = '', value = ''] = pair.split('=').map((part) => part.trim());
      if (!vocabulary.severities.includes(severity)) {
        throw new Error(
          `CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS: "${pair}" is not SEVERITY=days with a severity of ${vocabulary.severities.join(', ')}.`,
        );
      }
      return [severity, days('CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS', value)];
    }),
  );

  return {
    nonRestorable: new Set(nonRestorable),
    listingMinimumDays: days('CREDENCE_RESTORATION_MINIMUM_DAYS', setting('CREDENCE_RESTORATION_MINIMUM_DAYS')),
    penaltyMinimumDays,
  };
}

/**
 * The national list of punishment measures (R2), as data: `schema/measures.yaml`. Measures are
 * only ever taken from this list; market and social measures are advisory (R3), which is checked
 * here so that the list cannot ship a mandatory one.
 */
import { fileURLToPath } from 'node:url';
import type { PolicyProblem } from '../loading/problems.ts';
import { parseReferenceFile, readReferenceFile, ReferenceDataError } from './reference-data.ts';
import { child, ProblemSink } from '../loading/yaml-source.ts';
import type { Place, YamlFile } from '../loading/yaml-source.ts';

export const DEFAULT_MEASURES_PATH = fileURLToPath(new URL('../../../schema/measures.yaml', import.meta.url));

/** The groups of the list; the GraphQL enum `MeasureGroup` lists the same values (tested). */
export const MEASURE_GROUPS = ['RESTRICTING_RIGHTS', 'MANAGEMENT', 'MARKET_AND_SOCIAL'] as const;
export type MeasureGroup = (typeof MEASURE_GROUPS)[number];

export const MEASURE_BINDINGS = ['MANDATORY', 'ADVISORY'] as const;
export type MeasureBinding = (typeof MEASURE_BINDINGS)[number];

/** Groups whose measures nobody may be compelled to apply (R3): financial institutions, credit services, associations, media. */
export const ADVISORY_GROUPS: ReadonlySet<MeasureGroup> = new Set(['MARKET_AND_SOCIAL']);

export interface Measure {
  code: string;
  name: string;
  group: MeasureGroup;
  legalBasis: string;
  /** Values of the GraphQL enum `ListType`: listings of these types trigger the measure. */
  listTypes: readonly string[];
  binding: MeasureBinding;
}

export interface MeasuresList {
  file: YamlFile;
  measures: readonly Measure[];
}

interface RawMeasures {
  measures: Measure[];
}

export const MEASURES_JSON_SCHEMA = {
  type: 'object',
  required: ['measures'],
  additionalProperties: false,
  properties: {
    measures: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'name', 'group', 'legalBasis', 'listTypes', 'binding'],
        properties: {
          code: {
            type: 'string',
            pattern: '^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$',
            title: 'measure code',
            description: 'upper-case words joined by hyphens, for example RR-PROCUREMENT-EXCLUSION',
          },
          name: { type: 'string', minLength: 1 },
          group: { enum: [...MEASURE_GROUPS], title: 'measure group' },
          legalBasis: { type: 'string', minLength: 1, description: 'the law or regulation the measure rests on' },
          listTypes: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', title: 'list type' },
          },
          binding: { enum: [...MEASURE_BINDINGS], title: 'binding' },
        },
      },
    },
  },
} as const;

export function measurePlace(list: MeasuresList, index: number, ...path: (string | number)[]): Place {
  return child({ file: list.file.name, path: ['measures', index] }, ...path);
}

/** Unique codes, and R3: no market or social measure is mandatory. */
function ownProblems(list: MeasuresList): PolicyProblem[] {
  const sink = new ProblemSink(new Map([[list.file.name, list.file]]));
  const codes = new Map<string, number>();
  list.measures.forEach((measure, index) => {
    const earlier = codes.get(measure.code);
    if (earlier !== undefined) {
      sink.error(
        measurePlace(list, index, 'code'),
        'duplicate-id',
        `measure "${measure.code}" is already defined at ${sink.where(measurePlace(list, earlier, 'code'))}`,
        'each measure needs its own code',
      );
    } else {
      codes.set(measure.code, index);
    }
    if (ADVISORY_GROUPS.has(measure.group) && measure.binding !== 'ADVISORY') {
      sink.error(
        measurePlace(list, index, 'binding'),
        'schema',
        `measure ${measure.code} is a ${measure.group} measure and must be ADVISORY`,
        'financial institutions, credit services, industry associations and media shall not be compelled to punish (R3)',
      );
    }
  });
  return sink.problems;
}

export function parseMeasures(
  name: string,
  text: string,
): { ok: true; list: MeasuresList } | { ok: false; problems: PolicyProblem[] } {
  const parsed = parseReferenceFile<RawMeasures>(name, text, MEASURES_JSON_SCHEMA);
  if (!parsed.ok) return parsed;
  const list: MeasuresList = { file: parsed.file, measures: parsed.value.measures };
  const problems = ownProblems(list);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, list };
}

const loaded = new Map<string, MeasuresList>();

/** The measures list of a file (the shipped `schema/measures.yaml` by default), read and checked once per process. */
export function loadMeasures(path: string = DEFAULT_MEASURES_PATH): MeasuresList {
  const cached = loaded.get(path);
  if (cached) return cached;
  const { name, text } = readReferenceFile(path);
  const result = parseMeasures(name, text);
  if (!result.ok) throw new ReferenceDataError(`the measures list ${name}`, result.problems);
  loaded.set(path, result.list);
  return result.list;
}

/** The measures a listing of this type triggers, in list order. */
export function measuresForListType(list: MeasuresList, listType: string): Measure[] {
  return list.measures.filter((measure) => measure.listTypes.includes(listType));
}

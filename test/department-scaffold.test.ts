/**
 * Adding a department (issue 20): `npm run policy -- scaffold` on the sample ecology department's
 * SDL (an interface and a union), in a copy of schema/ and policies/. The drafted catalog items
 * and policy file; composition errors at their line; the catalog check refusing to start while a
 * TODO remains, listing them; and, once an officer has decided every TODO and written a rule, the
 * department answering through the gateway beside the shipped ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isPolicySource } from './support/release.ts';
import { loadCatalog } from '../lib/policy/reference/catalog.ts';
import { ReferenceDataError } from '../lib/policy/reference/reference-data.ts';
import { main } from '../scripts/policy.ts';
import { ecology, ECOLOGY_SDL_PATH } from './fixtures/ecology/index.ts';
import type { Federation } from './support/federation.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SDL = fileURLToPath(ECOLOGY_SDL_PATH);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
    cwd: ROOT,
    env: {},
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** A copy of the shipped schema/ and policies/ folders, which scaffold writes into. */
function copyOfShipped(): { dir: string; schemaDir: string; policiesDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'credence-scaffold-'));
  cpSync(join(ROOT, 'schema'), join(dir, 'schema'), { recursive: true });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true, filter: isPolicySource });
  return { dir, schemaDir: join(dir, 'schema'), policiesDir: join(dir, 'policies') };
}

/** What an officer decides for each drafted item of the sample department. */
const DECISIONS: Record<string, { category: string; classification: string; legalBasis: string }> = {
  'ECOLOGY-ENVIRONMENTAL-INSPECTION': {
    category: 'ADMINISTRATIVE_PENALTY',
    classification: 'PUBLIC',
    legalBasis: 'Environmental Protection Law, art. 24 (on-site inspection)',
  },
  'ECOLOGY-WATER-INSPECTION': {
    category: 'ADMINISTRATIVE_PENALTY',
    classification: 'PUBLIC',
    legalBasis: 'Water Pollution Prevention and Control Law, art. 30',
  },
  'ECOLOGY-AIR-INSPECTION': {
    category: 'ADMINISTRATIVE_PENALTY',
    classification: 'PUBLIC',
    legalBasis: 'Air Pollution Prevention and Control Law, art. 29',
  },
  'ECOLOGY-FINDING': {
    category: 'ADMINISTRATIVE_PENALTY',
    classification: 'PUBLIC',
    legalBasis: 'Measures for Environmental Information Disclosure by Enterprises, art. 12',
  },
  'ECOLOGY-EMISSION-PERMIT': {
    category: 'REGISTRATION',
    classification: 'PUBLIC',
    legalBasis: 'Regulations on the Administration of Pollutant Discharge Permits, art. 23',
  },
  'ECOLOGY-POLLUTION-INCIDENT': {
    category: 'ADMINISTRATIVE_PENALTY',
    classification: 'SHARED',
    legalBasis: 'Environmental Protection Law, art. 47 (environmental emergencies)',
  },
};

/** The catalog with every TODO of the drafted items replaced by the officer's decision. */
function decide(catalogText: string): string {
  let code = '';
  return catalogText
    .split('\n')
    .map((line) => {
      const item = /^ {2}- code: (\S+)/.exec(line);
      if (item) code = item[1] ?? '';
      const todo = /^( {4})(category|classification|legalBasis): TODO$/.exec(line);
      if (!todo) return line;
      const decision = DECISIONS[code];
      assert.ok(decision, `a decision for ${code}`);
      return `${todo[1]}${todo[2]}: ${JSON.stringify(decision[todo[2] as keyof typeof decision])}`;
    })
    .join('\n');
}

/** The rule the officer writes from the stubs: the public portal sees the department, the incident reporter's phone excepted. */
const PORTAL_RULE = `
rules:
  - id: portal-sees-ecology
    description: The public portal displays inspections, permits and incidents; not who reported an incident.
    consumers: [public-portal]
    purposes: [PUBLIC_DISCLOSURE]
    allow:
      - set:ecology-environmental-inspection
      - set:ecology-water-inspection
      - set:ecology-air-inspection
      - set:ecology-finding
      - set:ecology-emission-permit
      - PollutionIncident.incidentNumber
      - PollutionIncident.occurredOn
      - PollutionIncident.severity
`;

describe('adding a department with npm run policy -- scaffold', () => {
  const { dir, schemaDir, policiesDir } = copyOfShipped();
  const catalogPath = join(schemaDir, 'catalog.yaml');
  const candidatePath = join(schemaDir, 'supergraph.candidate.graphql');
  const shippedCatalog = readFileSync(catalogPath, 'utf8');
  let scaffold: { code: number; stdout: string; stderr: string };

  before(async () => {
    scaffold = await cli([
      'scaffold',
      '--subgraph',
      'ecology',
      '--sdl',
      SDL,
      '--schema-dir',
      schemaDir,
      '--dir',
      policiesDir,
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scaffold drafts catalog items for the sample department, grouped by type, with every legal basis, classification and category TODO', () => {
    assert.equal(scaffold.code, 0, scaffold.stderr);
    const catalog = readFileSync(catalogPath, 'utf8');
    assert.ok(catalog.startsWith(shippedCatalog.trimEnd()), 'the shipped items are kept as they were');
    const drafted = catalog.slice(shippedCatalog.trimEnd().length);
    const codes = [...drafted.matchAll(/- code: (\S+)/g)].map((match) => match[1]);
    assert.deepEqual(codes.sort(), Object.keys(DECISIONS).sort());
    for (const key of ['category', 'classification', 'legalBasis']) {
      assert.equal(
        [...drafted.matchAll(new RegExp(`\\n {4}${key}: TODO\\n`, 'g'))].length,
        codes.length,
        `${key} is TODO in every item`,
      );
    }
    // The interface's fields, and the fields returning it, are one item; the union's field is its own.
    assert.match(
      drafted,
      /code: ECOLOGY-ENVIRONMENTAL-INSPECTION[\s\S]*?fields: \[EnvironmentalInspection\.id, EnvironmentalInspection\.inspectedOn, EnvironmentalInspection\.inspector, EnvironmentalInspection\.compliant, Query\.environmentalInspection, Subject\.environmentalInspections\]/,
    );
    assert.match(drafted, /code: ECOLOGY-FINDING[\s\S]*?fields: \[Subject\.ecologyFindings\]/);
    assert.match(drafted, /code: ECOLOGY-POLLUTION-INCIDENT[\s\S]*?PollutionIncident\.reporterPhone/);
    assert.equal(readFileSync(join(schemaDir, 'ecology.graphql'), 'utf8'), readFileSync(SDL, 'utf8'));
    assert.match(
      readFileSync(candidatePath, 'utf8'),
      /@join__graph\(name: "ecology", url: "http:\/\/127\.0\.0\.1:4007\/graphql"\)/,
    );
  });

  it('scaffold drafts deny-by-default rule stubs: field sets, and rules that allow nothing until written', () => {
    const policy = readFileSync(join(policiesDir, 'ecology.yaml'), 'utf8');
    assert.match(policy, /^fieldSets:$/m);
    assert.match(policy, /^ {2}ecology-pollution-incident:\n {4}- PollutionIncident\.incidentNumber/m);
    assert.doesNotMatch(policy, /^rules:/m, 'no live rule: deny by default');
    assert.match(
      policy,
      /^# {3}- id: <consumer>-sees-ecology-finding\n#.*\n# {5}consumers: \[<consumer or group>\]\n# {5}purposes: \[<PURPOSE>\]\n# {5}allow: \[set:ecology-finding\]$/m,
    );
  });

  it('scaffold prints what is left to decide, each TODO at its line', () => {
    const lines = scaffold.stdout.split('\n');
    const catalogLines = readFileSync(catalogPath, 'utf8').split('\n');
    const todos = lines.filter((line) => / is still TODO$/.test(line));
    assert.equal(todos.length, 18, scaffold.stdout);
    for (const todo of todos) {
      const [, line = '0', column = '0'] = /catalog\.yaml:(\d+):(\d+):/.exec(todo) ?? [];
      assert.equal(catalogLines[Number(line) - 1]?.slice(Number(column) - 1), 'TODO', todo);
    }
    assert.equal(lines.filter((line) => /no consumer sees set:ecology-\S+ yet/.test(line)).length, 6);
  });

  it('scaffold reports composition errors at their line, and writes nothing', async () => {
    const broken = join(dir, 'broken.graphql');
    // Line 4: a Subject key field typed differently from the registry's.
    writeFileSync(
      broken,
      [
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])',
        '',
        'type Subject @key(fields: "uscc") {',
        '  uscc: Int!',
        '  noise: String',
        '}',
      ].join('\n'),
    );
    const before = readFileSync(catalogPath, 'utf8');
    const result = await cli([
      'scaffold',
      '--subgraph',
      'noise',
      '--sdl',
      broken,
      '--schema-dir',
      schemaDir,
      '--dir',
      policiesDir,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /broken\.graphql:4:3: .*Subject\.uscc/);
    assert.match(result.stderr, /nothing written/);
    assert.equal(readFileSync(catalogPath, 'utf8'), before);

    writeFileSync(broken, 'type Query {\n  ok: String\n  bad(: String\n}\n');
    const syntax = await cli([
      'scaffold',
      '--subgraph',
      'noise',
      '--sdl',
      broken,
      '--schema-dir',
      schemaDir,
      '--dir',
      policiesDir,
    ]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /broken\.graphql:3:7: Syntax Error/);
  });

  it('the catalog check refuses to start while any TODO remains, with a message listing them', () => {
    assert.throws(
      () => loadCatalog(catalogPath),
      (error: unknown) => {
        assert.ok(error instanceof ReferenceDataError);
        assert.match(error.message, /\(18 TODO left to decide\) is invalid/);
        assert.equal(error.problems.filter((problem) => problem.code === 'undecided').length, 18);
        assert.match(error.message, /ECOLOGY-POLLUTION-INCIDENT\.classification is still TODO/);
        return true;
      },
    );
    const validate = spawnSync(
      process.execPath,
      ['scripts/policy.ts', 'validate', '--dir', policiesDir, '--supergraph', candidatePath],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, CREDENCE_CATALOG_PATH: catalogPath, LOG_LEVEL: 'silent' },
      },
    );
    assert.equal(validate.status, 1);
    assert.equal(
      [
        ...validate.stderr.matchAll(
          /catalog\.yaml:\d+:\d+: ECOLOGY-[A-Z-]+\.(category|classification|legalBasis) is still TODO/g,
        ),
      ].length,
      18,
      validate.stderr,
    );
  });

  describe('once every TODO is decided and a rule written', () => {
    let federation: Federation;
    const subjectCodes = async (): Promise<string[]> => {
      const { body } = await federation.query('{ subjects(first: 12) { uscc } }');
      return (body.data?.['subjects'] as { uscc: string }[]).map((subject) => subject.uscc);
    };

    before(async () => {
      writeFileSync(catalogPath, decide(readFileSync(catalogPath, 'utf8')));
      writeFileSync(
        join(policiesDir, 'ecology.yaml'),
        readFileSync(join(policiesDir, 'ecology.yaml'), 'utf8') + PORTAL_RULE,
      );
      // Every process of a deployment reads the same catalog (catalog.ts); this test's is the decided copy.
      process.env.CREDENCE_CATALOG_PATH = catalogPath;
      const { startFederation } = await import('./support/federation.ts');
      federation = await startFederation({
        subjects: 12,
        extraDepartments: { departments: [ecology], supergraphPath: candidatePath },
        preparePolicies: async (copy) => cpSync(join(policiesDir, 'ecology.yaml'), join(copy, 'ecology.yaml')),
      });
    });
    after(async () => {
      await federation?.close();
      delete process.env.CREDENCE_CATALOG_PATH;
    });

    it('the policy validates against the candidate supergraph with the decided catalog', () => {
      const validate = spawnSync(
        process.execPath,
        ['scripts/policy.ts', 'validate', '--dir', policiesDir, '--supergraph', candidatePath],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, CREDENCE_CATALOG_PATH: catalogPath, LOG_LEVEL: 'silent' },
        },
      );
      assert.equal(validate.status, 0, validate.stderr);
    });

    it('the sample department answers through the gateway, through its interface and its union, as the written rule allows', async () => {
      const codes = await subjectCodes();
      const query = `query($uscc: ID!) {
        subject(uscc: $uscc) {
          uscc
          environmentalInspections {
            __typename id inspectedOn compliant
            ... on WaterInspection { dischargePoint codMilligramsPerLitre }
            ... on AirInspection { stack }
          }
          ecologyFindings {
            __typename
            ... on EmissionPermit { permitNumber pollutants }
            ... on PollutionIncident { incidentNumber severity }
          }
        }
      }`;
      let sawIncident = false;
      for (const uscc of codes) {
        const { status, body } = await federation.query(
          query,
          { uscc },
          { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' },
        );
        assert.equal(status, 200, JSON.stringify(body));
        const subject = body.data?.['subject'] as {
          environmentalInspections: Record<string, unknown>[];
          ecologyFindings: Record<string, unknown>[];
        };
        assert.deepEqual(
          subject.environmentalInspections.map((inspection) => inspection['__typename']),
          ['WaterInspection', 'AirInspection'],
        );
        assert.equal(typeof subject.environmentalInspections[0]?.['codMilligramsPerLitre'], 'number');
        assert.match(String(subject.environmentalInspections[1]?.['stack']), /^DA00\d$/);
        const permit = subject.ecologyFindings.find((finding) => finding['__typename'] === 'EmissionPermit');
        assert.deepEqual(permit?.['pollutants'], ['COD', 'SO2']);
        const incident = subject.ecologyFindings.find((finding) => finding['__typename'] === 'PollutionIncident');
        if (!incident) continue;
        sawIncident = true;
        assert.match(String(incident['severity']), /^(GENERAL|LARGE|MAJOR)$/);
      }
      assert.ok(sawIncident, 'some seeded subject has a pollution incident');
      // No rule allows the reporter's phone: for the portal the field does not exist.
      const phone = await federation.query(
        query.replace('incidentNumber severity', 'incidentNumber severity reporterPhone'),
        { uscc: codes[0] },
        { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' },
      );
      assert.equal(phone.status, 400);
      assert.equal(phone.body.data ?? null, null);
      assert.match(
        phone.body.errors?.[0]?.message ?? '',
        /Cannot query field "reporterPhone" on type "PollutionIncident"/,
      );
    });

    it('a consumer no rule names is denied the department (deny by default)', async () => {
      const [uscc] = await subjectCodes();
      const { status, body } = await federation.query(
        'query($uscc: ID!) { subject(uscc: $uscc) { environmentalInspections { id } } }',
        { uscc },
        { consumer: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY' },
      );
      assert.notEqual(status, 200);
      assert.equal(body.data ?? null, null);
      assert.ok(body.errors?.length, JSON.stringify(body));
    });
  });
});

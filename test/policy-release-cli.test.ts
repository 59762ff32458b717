/**
 * The officers' release commands (`npm run policy -- release-key | release | verify-release |
 * status`), run as the CLI runs them, against a copy of the shipped policies and the real Redis.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPolicyBundle } from '../lib/policy/loading/bundle.ts';
import { DEFAULT_POLICIES_DIR } from '../lib/policy/releases/process-policy.ts';
import { RELEASE_ENV, releaseDigest } from '../lib/policy/releases/signed-release.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { createLogger } from '../lib/logger.ts';
import { main } from '../scripts/policy.ts';
import { isPolicySource } from './support/release.ts';

describe('npm run policy -- release and its companions', () => {
  let work: string;
  let dir: string;
  let env: Record<string, string> = {};
  const namespace = `credence-test-release-cli-${process.pid}`;

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main(args, {
      stdout: (text) => stdout.push(text),
      stderr: (text) => stderr.push(text),
      cwd: work,
      env,
    });
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  }

  const releases = async (): Promise<string[]> => (await readdir(join(dir, 'releases')).catch(() => [])).sort();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'credence-release-cli-'));
    dir = join(work, 'policies');
    await cp(DEFAULT_POLICIES_DIR, dir, { recursive: true, filter: isPolicySource });
    const made = await cli(['release-key', '--out', join(work, 'keys')]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^release key [\w-]{16}/);
    assert.equal(
      (await stat(join(work, 'keys', 'release-key.pem'))).mode & 0o777,
      0o600,
      'the private key is readable by its owner only',
    );
    env = {
      [RELEASE_ENV.PRIVATE_KEY]: await readFile(join(work, 'keys', 'release-key.pem'), 'utf8'),
      [RELEASE_ENV.PUBLIC_KEYS]: await readFile(join(work, 'keys', 'release-key.pub.pem'), 'utf8'),
      CREDENCE_REDIS_NAMESPACE: namespace,
    };
  });

  after(async () => {
    const store = await connectSharedStore(createLogger('test'));
    for (const key of (await store.redis?.keys(`${namespace}:*`)) ?? []) await store.redis?.del(key);
    await store.close();
    await rm(work, { recursive: true, force: true });
  });

  it('release-key never overwrites a key', async () => {
    const again = await cli(['release-key', '--out', join(work, 'keys')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /never overwritten/);
  });

  it('releases the folder as release 1, then finds nothing to release', async () => {
    const first = await cli(['release', '--dir', dir, '--note', 'first release']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /released policy 1 \(after 0\)/);
    assert.deepEqual(await releases(), ['release-000001.json']);
    const again = await cli(['release', '--dir', dir]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to release: the files are release 1/);
  });

  it('refuses an invalid policy, or one whose policy tests fail, and writes nothing', async () => {
    const rules = join(dir, 'rules.yaml');
    const valid = await readFile(rules, 'utf8');
    await writeFile(
      rules,
      `${valid}\n  - id: broken\n    description: denies what another rule allows.\n    consumers: [public-portal]\n    deny: [Subject.name]\n`,
    );
    const invalid = await cli(['release', '--dir', dir]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /rules\.yaml:\d+:\d+/);
    assert.match(invalid.stderr, /not released: the policy is not valid/);
    await writeFile(rules, valid);
    // A valid policy, and a policy test it does not pass.
    const wrongTest = join(dir, 'tests', 'expects-otherwise.yaml');
    await writeFile(
      wrongTest,
      [
        'consumer: public-portal',
        'purpose: PUBLIC_DISCLOSURE',
        'cases:',
        '  - name: the portal sees phone numbers',
        '    query: "{ subject(uscc: \\"91110000600037341L\\") { legalRepresentative { phone } } }"',
        '    visible: [Query.subject, Subject.legalRepresentative, LegalRepresentative.phone]',
        '',
      ].join('\n'),
    );
    const failing = await cli(['release', '--dir', dir]);
    await rm(wrongTest);
    assert.equal(failing.code, 1, failing.stdout);
    assert.match(failing.stderr, /not released: policy tests fail/);
    assert.deepEqual(await releases(), ['release-000001.json']);
  });

  it('releases a change as release 2, verifies it, and refuses a tampered file', async () => {
    await writeFile(
      join(dir, 'rules.yaml'),
      `${await readFile(join(dir, 'rules.yaml'), 'utf8')}\n# a reviewed change\n`,
    );
    const second = await cli(['release', '--dir', dir]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /released policy 2 \(after 1\)/);
    const verified = await cli(['verify-release', '--dir', dir]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /release 2, signature verified/);
    assert.match(verified.stdout, /holds exactly these files/);

    const path = join(dir, 'releases', 'release-000002.json');
    const release = JSON.parse(await readFile(path, 'utf8')) as { files: Record<string, string> };
    release.files['rules.yaml'] += '\n# slipped in\n';
    const tampered = join(work, 'tampered.json');
    await writeFile(tampered, JSON.stringify(release));
    const refused = await cli(['verify-release', tampered, '--dir', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /REFUSED \(DIGEST_MISMATCH\)/);
  });

  it('rolls back as a new release carrying the old content, and puts that content back in the folder', async () => {
    const first = JSON.parse(await readFile(join(dir, 'releases', 'release-000001.json'), 'utf8')) as {
      sha256: string;
    };
    const rollback = await cli(['release', '--from-release', '1', '--dir', dir]);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, /released policy 3 \(after 2\)/);
    assert.match(rollback.stdout, /rollback to the content of release 1/);
    const third = JSON.parse(await readFile(join(dir, 'releases', 'release-000003.json'), 'utf8')) as {
      sha256: string;
      number: number;
    };
    assert.equal(third.sha256, first.sha256, 'the content of release 1');
    assert.equal(releaseDigest(await readPolicyBundle(dir)), first.sha256, 'the folder holds it again');
  });

  it('status says when no process has reported', async () => {
    const status = await cli(['status']);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /no process has reported/);
  });
});

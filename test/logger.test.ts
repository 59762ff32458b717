/**
 * Ordinary logs carry no personal data (issue 5, item 6): a log call that passes a code, an ID
 * number, a phone number or query variables, in a field, a message or an error, writes none of
 * them. Run in a child process, as the logger writes to the process's stderr.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';

const run = promisify(execFile);

it('ordinary logs redact personal data by field name and scrub it from every string', async () => {
  const subject = seedSubject(3);
  const idNumber = subject.legalRepresentative.idNumber;
  const phone = subject.legalRepresentative.phone;
  const script = `
    import { createLogger } from './lib/logger.ts';
    const log = createLogger('test');
    log.info({ uscc: ${JSON.stringify(subject.uscc)}, department: 'registry' }, 'looked up');
    log.warn({ request: { variables: { code: ${JSON.stringify(subject.uscc)} } } }, 'a request');
    log.error({ err: new Error('E11000 duplicate key: { uscc: "${subject.uscc}", idNumber: "${idNumber}" }') }, 'write failed');
    log.info('call ${phone} about ${subject.uscc}');
    log.info({ detail: { phone: ${JSON.stringify(phone)}, reason: 'timeout' } }, 'department call failed');
  `;
  const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  const lines = stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 5);
  for (const secret of [subject.uscc, idNumber, phone])
    assert.ok(!stderr.includes(secret), `${secret} is not in the log:\n${stderr}`);
  assert.ok(stderr.includes('[redacted]'));
  // What is not personal stays readable.
  assert.equal(lines[0]?.department, 'registry');
  assert.match(String((lines[2]?.err as { message?: string }).message), /^E11000 duplicate key/);
  assert.equal((lines[4]?.detail as { reason?: string }).reason, 'timeout');
});

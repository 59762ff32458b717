/**
 * The witness: the privacy office countersigns, from time to time (`npm run audit -- witness`,
 * from cron), the head of every chain it sees, with its audit key, into a file it keeps outside
 * the log's store (ACCESS_LOG_WITNESS_FILE). A gateway never holds that key nor writes that
 * file, so what was witnessed stays evidence whoever rewrites the store: a chain deleted whole,
 * or a tail cut after its last checkpoint, is reported by verify once it was witnessed. What was
 * written after the last witness is protected only by the chain itself and its checkpoints:
 * the witness interval bounds that window.
 */
import { appendFile, readFile } from 'node:fs/promises';
import type { CheckpointSigner } from './keys.ts';
import { parseWithDates, type AccessLogContents } from './maintenance.ts';
import { auditPayload, type WitnessStatement, type WitnessedHead } from './record.ts';

export const WITNESS_FILE_ENV = 'ACCESS_LOG_WITNESS_FILE';

/** Every statement of the witness file, oldest first; none when it does not exist yet. */
export async function readWitnessFile(path: string): Promise<WitnessStatement[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [parseWithDates(line) as WitnessStatement];
    } catch {
      throw new Error(`line ${index + 1} of the witness file ${path} is not JSON`);
    }
  });
}

/** The last record of every chain in `contents`, signed by the audit key. */
export function witnessStatement(
  contents: AccessLogContents,
  signer: CheckpointSigner,
  at = new Date(),
): WitnessStatement {
  const heads = new Map<string, WitnessedHead>();
  for (const record of contents.records) {
    const known = heads.get(record.chain);
    if (!known || record.seq > known.seq)
      heads.set(record.chain, { chain: record.chain, instance: record.instance, seq: record.seq, hash: record.hash });
  }
  const unsigned = { at, keyId: signer.keyId, heads: [...heads.values()].sort((a, b) => (a.chain < b.chain ? -1 : 1)) };
  return { ...unsigned, signature: signer.sign(auditPayload(unsigned)) };
}

export async function appendWitness(path: string, statement: WitnessStatement): Promise<void> {
  await appendFile(path, `${JSON.stringify(statement)}\n`, { mode: 0o600 });
}

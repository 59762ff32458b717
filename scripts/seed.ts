/** `npm run seed -- [--subjects N]`: writes demo data into MONGODB_URI, or into the embedded store of `npm start`. */
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/logger.ts';
import { startMongo } from '../lib/stores/mongo.ts';
import { ACCESS_LOG_DEPARTMENT } from '../lib/access-log/store.ts';
import { DEFAULT_SUBJECT_COUNT, seedAll } from '../subgraphs/seed.ts';
import { DATA_DIRECTORY } from './stack.ts';

const { values } = parseArgs({ options: { subjects: { type: 'string', default: String(DEFAULT_SUBJECT_COUNT) } } });
const subjects = Number(values.subjects);
if (!Number.isInteger(subjects) || subjects < 1) throw new Error(`--subjects must be a positive integer, got "${values.subjects}".`);

const log = createLogger('seed');
const mongo = await startMongo({ dataDir: DATA_DIRECTORY, log, port: 27018 });
try {
  const started = Date.now();
  const inserted = await seedAll({ mongoUri: mongo.uri, subjects, log });
  await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
  console.log(`seeded ${subjects} subjects in ${((Date.now() - started) / 1000).toFixed(1)} s; new documents per department:`, inserted);
} finally {
  await mongo.stop();
}

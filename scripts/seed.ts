/** `npm run seed -- [--subjects N]`: writes demo data into MONGODB_URI, or into the embedded store of `npm start`. */
import { parseArgs } from 'node:util';
import { orExitOnConfigError } from '../lib/config/read.ts';
import { createLogger } from '../lib/logger.ts';
import { startMongo } from '../lib/stores/mongo.ts';
import { DEFAULT_SUBJECT_COUNT, seedAll } from '../subgraphs/seed.ts';
import { readToolSettings } from './config.ts';
import { DATA_DIRECTORY } from './stack.ts';

const { values } = parseArgs({ options: { subjects: { type: 'string', default: String(DEFAULT_SUBJECT_COUNT) } } });
const subjects = Number(values.subjects);
if (!Number.isInteger(subjects) || subjects < 1) throw new Error(`--subjects must be a positive integer, got "${values.subjects}".`);

const settings = orExitOnConfigError(() => readToolSettings());
const log = createLogger('seed');
const mongo = await startMongo({ dataDir: DATA_DIRECTORY, log, port: settings.embeddedMongoPort });
try {
  const started = Date.now();
  const inserted = await seedAll({ mongoUri: mongo.uri, subjects, log, referenceDate: settings.seedReferenceDate });
  console.log(`seeded ${subjects} subjects in ${((Date.now() - started) / 1000).toFixed(1)} s; new documents per department:`, inserted);
} finally {
  await mongo.stop();
}

/**
 * `npm run seed -- [--subjects N]`: writes demo data into MONGODB_URI, else into the store of a
 * running `npm start` (.data/store.json), else into the embedded store, started for the purpose.
 */
import { parseArgs } from 'node:util';
import { orExitOnConfigError } from '../lib/config/read.ts';
import { createLogger } from '../lib/logger.ts';
import { startMongo, type MongoServer } from '../lib/stores/mongo.ts';
import { ACCESS_LOG_DEPARTMENT } from '../lib/access-log/store.ts';
import { DEFAULT_SUBJECT_COUNT, seedAll } from '../subgraphs/seed.ts';
import { readToolSettings } from './config.ts';
import { DATA_DIRECTORY, STORE_FILE, runningStore } from './stack.ts';

const { values } = parseArgs({ options: { subjects: { type: 'string', default: String(DEFAULT_SUBJECT_COUNT) } } });
const subjects = Number(values.subjects);
if (!Number.isInteger(subjects) || subjects < 1)
  throw new Error(`--subjects must be a positive integer, got "${values.subjects}".`);

const settings = orExitOnConfigError(() => readToolSettings());
const log = createLogger('seed');
const running = settings.shared.mongoUri ? undefined : runningStore();
const mongo: MongoServer = running
  ? // npm start adapts its store's indexes when it starts; a seed into it leaves that to the next start.
    {
      uri: running.uri,
      description: `${running.description}, run by npm start (pid ${running.pid}, ${STORE_FILE})`,
      embedded: false,
      adaptIndexes: async () => [],
      stop: async () => {},
    }
  : await startMongo({ dataDir: DATA_DIRECTORY, log, port: settings.embeddedMongoPort });
console.log(`store: ${mongo.description}`);
try {
  const started = Date.now();
  const inserted = await seedAll({ mongoUri: mongo.uri, subjects, log, referenceDate: settings.seedReferenceDate });
  await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
  console.log(
    `seeded ${subjects} subjects in ${((Date.now() - started) / 1000).toFixed(1)} s; new documents per department:`,
    inserted,
  );
} finally {
  await mongo.stop();
}

/**
 * The floor this store allows: one plain Node process that answers the partner query by doing the
 * same lookups as the departments (a subject by its code, then its records in four departments'
 * collections, by the same indexed fields and in the same order) with the MongoDB driver against
 * the same store, and returns the same JSON shape as the bare stack. No GraphQL, no federation, no
 * policy, no access log: what Credence adds over this is what federation, enforcement and
 * accountability cost together.
 *
 * `node test/bench/direct-reader.ts` with MONGODB_URI, PORT (and MONGODB_DB_PREFIX). It takes the
 * benchmark's POST bodies: the subject's code from `variables.uscc`, or from the literal document.
 */
import { createServer, type IncomingMessage } from 'node:http';
import mongoose from 'mongoose';
import { departmentDatabaseName } from '../../lib/stores/mongo.ts';

const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required.');
const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set to the port to listen on.');

const client = new mongoose.mongo.MongoClient(mongoUri, { maxPoolSize: 20 });
await client.connect();
const collection = (department: string, name: string) =>
  client.db(departmentDatabaseName(department)).collection<Record<string, unknown>>(name);
const stores = {
  subjects: collection('registry', 'subjects'),
  debtorEntries: collection('judicial', 'debtor_entries'),
  taxViolations: collection('tax', 'violation_cases'),
  penalties: collection('penalties', 'penalties'),
  listings: collection('credit', 'listings'),
};

const day = (value: unknown): string | null => (value instanceof Date ? value.toISOString().slice(0, 10) : null);

/** The records of one subject in one collection, newest first, as the department's loader reads them. */
function recordsOf(store: (typeof stores)['penalties'], uscc: string, newestFirst: string) {
  return store
    .find({ uscc })
    .sort({ uscc: 1, [newestFirst]: -1 })
    .toArray();
}

async function partnerAnswer(uscc: string): Promise<unknown> {
  const [subject, debtorEntries, taxViolations, penalties, listings] = await Promise.all([
    stores.subjects.findOne({ _id: uscc } as never),
    recordsOf(stores.debtorEntries, uscc, 'listedOn'),
    recordsOf(stores.taxViolations, uscc, 'decidedOn'),
    recordsOf(stores.penalties, uscc, 'decidedOn'),
    recordsOf(stores.listings, uscc, 'listedOn'),
  ]);
  if (!subject) return { data: { subject: null } };
  const representative = subject.legalRepresentative as { name?: unknown } | undefined;
  return {
    data: {
      subject: {
        name: subject.name,
        status: subject.status,
        legalRepresentative: representative ? { name: representative.name } : null,
        dishonestDebtorEntries: debtorEntries.map((entry) => ({
          caseNumber: entry._id,
          court: entry.court,
          performanceStatus: entry.performanceStatus,
        })),
        taxViolations: taxViolations.map((violation) => ({
          caseNumber: violation._id,
          violationType: violation.violationType,
          decidedOn: day(violation.decidedOn),
        })),
        administrativePenalties: penalties.map((penalty) => ({
          decisionNumber: penalty.decisionNumber,
          category: penalty.category,
          severity: penalty.severity,
          decidedOn: day(penalty.decidedOn),
        })),
        seriousDishonestyListings: listings.map((listing) => {
          const basis = listing.basis as { number?: unknown; issuedBy?: unknown } | undefined;
          return {
            listType: listing.listType,
            listedOn: day(listing.listedOn),
            basis: basis ? { number: basis.number, issuedBy: basis.issuedBy } : null,
          };
        }),
      },
    },
  };
}

/** The subject's code of a benchmark request: its `uscc` variable, or the code written in the document. */
function subjectOf(body: { query?: unknown; variables?: { uscc?: unknown } }): string | undefined {
  if (typeof body.variables?.uscc === 'string') return body.variables.uscc;
  return typeof body.query === 'string' ? /uscc:\s*"([^"]+)"/.exec(body.query)?.[1] : undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const server = createServer((request, response) => {
  void (async () => {
    try {
      const uscc = subjectOf(JSON.parse(await readBody(request)) as never);
      const answer = uscc ? await partnerAnswer(uscc) : { errors: [{ message: 'no subject code in the request' }] };
      response.writeHead(uscc ? 200 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } catch (error) {
      response
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    }
  })();
});
server.listen(port, '127.0.0.1', () => console.log(`direct reader listening on http://127.0.0.1:${port}/`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void client.close().finally(() => process.exit(0));
  });
}

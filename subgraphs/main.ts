/** Runs one department as a process: `node subgraphs/main.ts <name>` (MONGODB_URI and PORT from the environment). */
import { departmentNamed, defaultSubgraphPort } from './departments.ts';
import { startSubgraph } from './runtime/server.ts';

const name = process.argv[2];
if (!name) throw new Error('usage: node subgraphs/main.ts <department>');
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required to run a subgraph on its own (npm start provides one).');
const port = process.env.PORT ? Number(process.env.PORT) : defaultSubgraphPort(name);

const subgraph = await startSubgraph(departmentNamed(name), { mongoUri, port, host: process.env.HOST ?? '127.0.0.1' });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void subgraph.close().finally(() => process.exit(0));
  });
}

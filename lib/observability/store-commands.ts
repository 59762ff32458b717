/**
 * A department's store commands, timed where they are sent: the store latency metric and the
 * store spans read them from here.
 *
 * Why not the MongoDB driver's command monitoring: with `monitorCommands` on, the driver copies
 * every command for its started event and decodes every reply a second time, whole, for its
 * succeeded event (a cursor reply is otherwise read lazily). On the partner query that was the
 * largest part of what metrics and tracing cost a department. Timing the command in the code
 * that sends it costs a clock read and, with tracing on, a span.
 *
 * Two places send a department's commands: the loaders, through the driver's collections
 * (subgraphs/runtime/loaders.ts calls `sendStoreCommand`), and the mongoose models, whose
 * queries and saves a schema plugin times (`timeModelCommands`). Commands outside both (index
 * builds, readiness pings, the seed's bulk inserts) are not request work and are not observed.
 */
import type { Connection, Schema } from 'mongoose';

/** One command as the store sees it: never its filter or documents, which hold subject codes. */
export interface StoreCommand {
  /** The store's command name (find, insert, update, delete, findAndModify, aggregate, distinct). */
  name: string;
  collection: string;
  database: string;
}

/** Called when the command ends: without an argument when the store answered, with the failure otherwise. */
export type CommandEnd = (failure?: unknown) => void;

/** Told of each command of a connection (the store latency metric, the store spans). */
export interface StoreCommandObserver {
  started(command: StoreCommand): CommandEnd;
}

const observersOf = new WeakMap<Connection, StoreCommandObserver[]>();

/** Tells `observer` of every command sent through `connection` from now on. */
export function observeStoreCommands(connection: Connection, observer: StoreCommandObserver): void {
  const observers = observersOf.get(connection);
  if (observers) observers.push(observer);
  else observersOf.set(connection, [observer]);
}

/** Starts the command for every observer of its connection; undefined when nobody observes it. */
function begin(connection: Connection, name: string, collection: string): CommandEnd | undefined {
  const observers = observersOf.get(connection);
  if (!observers) return undefined;
  const command: StoreCommand = { name, collection, database: connection.name };
  const ends = observers.map((observer) => observer.started(command));
  return (failure) => {
    for (const end of ends) end(failure);
  };
}

/** Sends a command through the driver, observed as `name` on `collection`. */
export async function sendStoreCommand<T>(
  connection: Connection,
  name: string,
  collection: string,
  send: () => Promise<T>,
): Promise<T> {
  const end = begin(connection, name, collection);
  if (!end) return send();
  try {
    const reply = await send();
    end();
    return reply;
  } catch (error) {
    end(error);
    throw error;
  }
}

/** The store command each mongoose query operation sends. */
const QUERY_COMMANDS: Readonly<Record<string, string>> = {
  find: 'find',
  findOne: 'find',
  countDocuments: 'aggregate',
  distinct: 'distinct',
  updateOne: 'update',
  updateMany: 'update',
  replaceOne: 'update',
  deleteOne: 'delete',
  deleteMany: 'delete',
  findOneAndUpdate: 'findAndModify',
  findOneAndDelete: 'findAndModify',
  findOneAndReplace: 'findAndModify',
};
const QUERY_OPERATIONS = Object.keys(QUERY_COMMANDS);

/** Where a query's or a save's end is kept between its pre and post hooks. */
const pending = new WeakMap<object, CommandEnd>();

function finish(target: object, failure?: unknown): void {
  const end = pending.get(target);
  if (!end) return;
  pending.delete(target);
  end(failure);
}

interface HookedQuery {
  op?: string;
  model: { db: Connection; collection: { collectionName: string } };
}

interface HookedDocument {
  isNew: boolean;
  $isSubdocument?: boolean;
  constructor: { db: Connection; collection: { collectionName: string } };
}

/**
 * Times every query and save of the models `connection` compiles from now on (register it
 * before the models are defined). Only a process that observes its store pays for the hooks.
 */
export function timeModelCommands(connection: Connection): void {
  connection.plugin((schema: Schema) => {
    // mongoose types hooks by the schema's document type; these hooks serve every schema.
    const pre = schema.pre.bind(schema) as unknown as (
      operations: string | string[],
      hook: (this: never) => void,
    ) => void;
    const post = schema.post.bind(schema) as unknown as (
      operations: string | string[],
      hook: (this: never, ...args: never[]) => void,
    ) => void;
    pre(QUERY_OPERATIONS, function startQuery(this: HookedQuery) {
      const end = begin(this.model.db, QUERY_COMMANDS[this.op ?? ''] ?? 'find', this.model.collection.collectionName);
      if (end) pending.set(this, end);
    });
    pre('save', function startSave(this: HookedDocument) {
      // The plugin reaches embedded schemas too (a listing's basis document): their saves are
      // part of the top document's, which sends the one command.
      if (this.$isSubdocument) return;
      const model = this.constructor;
      const end = begin(model.db, this.isNew ? 'insert' : 'update', model.collection.collectionName);
      if (end) pending.set(this, end);
    });
    for (const operations of [QUERY_OPERATIONS, 'save']) {
      post(operations, function ended(this: object) {
        finish(this);
      });
      // Three parameters make it mongoose's error hook: it sees the failure and passes it on.
      post(operations, function failed(this: object, error: unknown, _result: unknown, next: (error: unknown) => void) {
        finish(this, error);
        next(error);
      });
    }
  });
}

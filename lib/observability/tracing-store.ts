/**
 * A span per store command of a department, from the MongoDB driver's command monitoring
 * (`monitorCommands: true`, lib/stores/mongo.ts): `commandStarted` opens a client span under the
 * active span (the department's request, carried by the context manager through mongoose and
 * the driver), `commandSucceeded` / `commandFailed` end it. No require hook: the driver's own
 * events, which work the same under ESM and Node's type stripping.
 *
 * A span says which command on which collection of which database, and how it ended: never the
 * command's filter, documents or reply, which hold subject codes and personal data. Commands
 * outside any request (index builds, readiness pings) make no span.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Connection, mongo } from 'mongoose';
import { ATTRIBUTES, TRACERS, tracer, tracingOn, UNREGISTERED_ERROR } from './tracing.ts';

/** A collection name as the models declare them; anything else is not named in a span. */
const COLLECTION = /^[A-Za-z_][\w.-]{0,63}$/;

function collectionOf(event: mongo.CommandStartedEvent): string | undefined {
  const target: unknown = event.command[event.commandName];
  return typeof target === 'string' && COLLECTION.test(target) ? target : undefined;
}

function watchClient(client: mongo.MongoClient): void {
  const store = tracer(TRACERS.store);
  const open = new Map<number, Span>();
  client.on('commandStarted', (event) => {
    const parent = context.active();
    if (!trace.getSpan(parent)) return;
    const collection = collectionOf(event);
    const span = store.startSpan(
      collection ? `${event.commandName} ${collection}` : event.commandName,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTRIBUTES.dbSystem]: 'mongodb',
          [ATTRIBUTES.dbNamespace]: event.databaseName,
          [ATTRIBUTES.dbOperation]: event.commandName,
          ...(collection ? { [ATTRIBUTES.dbCollection]: collection } : {}),
        },
      },
      parent,
    );
    open.set(event.requestId, span);
  });
  client.on('commandSucceeded', (event) => {
    open.get(event.requestId)?.end();
    open.delete(event.requestId);
  });
  client.on('commandFailed', (event) => {
    const span = open.get(event.requestId);
    if (!span) return;
    open.delete(event.requestId);
    // The driver's error names (MongoServerError, …) are its own, bounded; its message may quote a document.
    const name = event.failure?.name;
    span.setAttribute(
      ATTRIBUTES.errorType,
      typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : UNREGISTERED_ERROR,
    );
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** Spans for the store commands of `connection`, including after its client is replaced (stuck-check.ts). Nothing with tracing off. */
export function traceStoreCommands(connection: Connection): void {
  if (!tracingOn()) return;
  const watched = new WeakSet<object>();
  const watch = (): void => {
    const client = connection.getClient();
    if (watched.has(client)) return;
    watched.add(client);
    watchClient(client);
  };
  watch();
  connection.on('connected', watch);
}

/**
 * A span per store command of a department, from the commands the department times where it
 * sends them (store-commands.ts): a client span under the active span (the department's
 * request, carried by the context manager through the loaders and mongoose's hooks).
 *
 * A span says which command on which collection of which database, and how it ended: never the
 * command's filter, documents or reply, which hold subject codes and personal data. Commands
 * outside any request make no span.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Connection } from 'mongoose';
import { observeStoreCommands } from './store-commands.ts';
import { ATTRIBUTES, TRACERS, tracer, tracingOn, UNREGISTERED_ERROR } from './tracing.ts';

/** A collection name as the models declare them; anything else is not named in a span. */
const COLLECTION = /^[A-Za-z_][\w.-]{0,63}$/;

/** The driver's error names (MongoServerError, …) are its own, bounded; its message may quote a document. */
function errorTypeOf(failure: unknown): string {
  const name = (failure as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : UNREGISTERED_ERROR;
}

/** Spans for the store commands of `connection` (nothing with tracing off). */
export function traceStoreCommands(connection: Connection): void {
  if (!tracingOn()) return;
  const store = tracer(TRACERS.store);
  observeStoreCommands(connection, {
    started(command) {
      const parent = context.active();
      if (!trace.getSpan(parent)) return () => {};
      const collection = COLLECTION.test(command.collection) ? command.collection : undefined;
      const span = store.startSpan(
        collection ? `${command.name} ${collection}` : command.name,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            [ATTRIBUTES.dbSystem]: 'mongodb',
            [ATTRIBUTES.dbNamespace]: command.database,
            [ATTRIBUTES.dbOperation]: command.name,
            ...(collection ? { [ATTRIBUTES.dbCollection]: collection } : {}),
          },
        },
        parent,
      );
      return (failure) => {
        if (failure !== undefined) {
          span.setAttribute(ATTRIBUTES.errorType, errorTypeOf(failure));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      };
    },
  });
}

/**
 * The last guard before a span leaves the process: what is exported is a copy of each span with
 * only the attributes Credence chose to set (ATTRIBUTES in tracing.ts, and the few of
 * @apollo/gateway's own that say nothing of a request's content), no events, no status message,
 * links without attributes or tracestate, and a name from a fixed vocabulary. Every string value
 * must also come through lib/logger.ts's scrub of codes, ID numbers and phone numbers unchanged.
 *
 * Why a guard and not only care: spans are made by Credence and by libraries (@apollo/gateway
 * names the operation a consumer chose, and would record exceptions, whose messages can quote a
 * subject code, if configured to). A consumer-chosen operation name is unbounded text, so it is
 * not exported; the access log, joined by trace id, has it.
 */
import type { Attributes, AttributeValue, Link } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { scrubPersonalData } from '../logger.ts';
import { ATTRIBUTES } from './tracing.ts';

/** What may be exported, beside Credence's own: @apollo/gateway's operation type and fetch target (a department's name). */
const EXPORTED_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...Object.values(ATTRIBUTES),
  'graphql.operation.type',
  'service',
]);

/** Span names: Credence's, @apollo/gateway's (`gateway.plan`, …) and the store's `<command> <collection>`. */
const SPAN_NAME = /^[A-Za-z][\w ./-]{0,63}$/;
const RENAMED = 'span';

/** A string is exported only if it is short and nothing in it looks like personal data. */
function exportable(value: AttributeValue | undefined): boolean {
  if (typeof value === 'string') return value.length <= 256 && scrubPersonalData(value) === value;
  if (Array.isArray(value)) return value.every((item) => item === null || item === undefined || exportable(item));
  return value !== undefined;
}

export function exportedAttributes(attributes: Attributes): Attributes {
  const kept: Attributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (EXPORTED_ATTRIBUTES.has(key) && exportable(value)) kept[key] = value;
  }
  return kept;
}

export function exportedName(name: string): string {
  return SPAN_NAME.test(name) && scrubPersonalData(name) === name ? name : RENAMED;
}

function exportedLink(link: Link): Link {
  const { traceId, spanId, traceFlags, isRemote } = link.context;
  return { context: { traceId, spanId, traceFlags, ...(isRemote === undefined ? {} : { isRemote }) } };
}

/** The span as it may leave the process. */
export function exportedSpan(span: ReadableSpan): ReadableSpan {
  // The ids, not the span: the copy waits in the batch for up to a second, and must not keep the original alive.
  const ids = span.spanContext();
  return {
    name: exportedName(span.name),
    kind: span.kind,
    spanContext: () => ids,
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: { code: span.status.code },
    attributes: exportedAttributes(span.attributes),
    links: span.links.map(exportedLink),
    events: [],
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount + span.events.length,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** A span processor that hands `next` (the exporting one) only the guarded copy of each ended span. */
export class PrivacyGuardProcessor implements SpanProcessor {
  private readonly next: SpanProcessor;
  constructor(next: SpanProcessor) {
    this.next = next;
  }

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // Not sampled: nothing to export, nothing to copy.
    if ((span.spanContext().traceFlags & 1) === 0) return;
    this.next.onEnd(exportedSpan(span));
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

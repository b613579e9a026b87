// The OTLP/HTTP protobuf body of a trace export (ExportTraceServiceRequest, opentelemetry-proto
// trace/v1) from the SDK's finished spans, written in one pass by protobuf-writer.ts. It writes
// the same bytes as the SDK's own serializer (@opentelemetry/otlp-transformer's
// ProtobufTraceSerializer; tests/otlp-trace-encoder.test.ts compares them), the same fields in the
// same order, at a fraction of its CPU. The reader of this message is otlp-protobuf.ts.
import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { ProtobufWriter, wire } from './protobuf-writer.ts';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

const min64 = -(2 ** 63);
const max64 = 2 ** 63;
/** Span flags (trace/v1 SpanFlags): the low byte is the W3C trace flags. */
const contextHasIsRemote = 0x100;
const contextIsRemote = 0x200;

/** The largest export so far: the next one's buffer starts that big, so it rarely grows. */
let largestExport = 64 * 1024;

/** The protobuf body of one export of `spans`, grouped by resource then scope as the SDK groups them. */
export function encodeTraceExport(spans: readonly ReadableSpan[]): Uint8Array {
  const w = new ProtobufWriter(largestExport);
  for (const [resource, scopes] of groupByResourceAndScope(spans)) {
    w.tag(1, wire.bytes);
    const resourceSpans = w.begin(3);
    writeResource(w, resource);
    for (const scopeSpans of scopes.values()) {
      w.tag(2, wire.bytes);
      writeScopeSpans(w, scopeSpans);
    }
    optionalString(w, 3, resource.schemaUrl);
    w.end(resourceSpans, 3);
  }
  largestExport = Math.max(largestExport, w.pos);
  return w.finish();
}

function groupByResourceAndScope(spans: readonly ReadableSpan[]): Map<Resource, Map<Scope, ReadableSpan[]>> {
  const byResource = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let byScope = byResource.get(span.resource);
    if (!byScope) byResource.set(span.resource, (byScope = new Map()));
    let list = byScope.get(span.instrumentationScope);
    if (!list) byScope.set(span.instrumentationScope, (list = []));
    list.push(span);
  }
  return byResource;
}

function writeResource(w: ProtobufWriter, resource: Resource): void {
  w.tag(1, wire.bytes);
  const start = w.begin(2);
  writeAttributes(w, resource.attributes, 1);
  w.tag(2, wire.varint);
  w.varint(0);
  w.end(start, 2);
}

function writeScopeSpans(w: ProtobufWriter, spans: ReadableSpan[]): void {
  const start = w.begin(3);
  const scope = spans[0]!.instrumentationScope;
  w.tag(1, wire.bytes);
  const scopeStart = w.begin();
  w.tag(1, wire.bytes);
  w.string(scope.name);
  optionalString(w, 2, scope.version);
  // Scope attributes: newer SDKs carry them; written as the SDK's serializer writes them.
  const { attributes, droppedAttributesCount } = scope as Scope & { attributes?: Attributes; droppedAttributesCount?: number };
  if (attributes) writeAttributes(w, attributes, 3);
  if (droppedAttributesCount) {
    w.tag(4, wire.varint);
    w.varint(droppedAttributesCount);
  }
  w.end(scopeStart);
  for (const span of spans) {
    w.tag(2, wire.bytes);
    writeSpan(w, span);
  }
  optionalString(w, 3, scope.schemaUrl);
  w.end(start, 3);
}

function writeSpan(w: ProtobufWriter, span: ReadableSpan): void {
  const start = w.begin(2);
  const ctx = span.spanContext();
  w.tag(1, wire.bytes);
  w.hexBytes(ctx.traceId);
  w.tag(2, wire.bytes);
  w.hexBytes(ctx.spanId);
  optionalString(w, 3, ctx.traceState?.serialize());
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, wire.bytes);
    w.hexBytes(parent.spanId);
  }
  w.tag(5, wire.bytes);
  w.string(span.name);
  // SpanKind of the API counts from INTERNAL = 0; the protocol's from UNSPECIFIED = 0.
  w.tag(6, wire.varint);
  w.varint(span.kind + 1);
  writeTime(w, 7, span.startTime);
  writeTime(w, 8, span.endTime);
  writeAttributes(w, span.attributes, 9);
  w.tag(10, wire.varint);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) writeEvent(w, event);
  w.tag(12, wire.varint);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) writeLink(w, link);
  w.tag(14, wire.varint);
  w.varint(span.droppedLinksCount);
  w.tag(15, wire.bytes);
  const status = w.begin();
  optionalString(w, 2, span.status.message);
  w.tag(3, wire.varint);
  w.varint(span.status.code);
  w.end(status);
  writeFlags(w, 16, ctx, parent?.isRemote);
  w.end(start, 2);
}

function writeEvent(w: ProtobufWriter, event: TimedEvent): void {
  w.tag(11, wire.bytes);
  const start = w.begin();
  writeTime(w, 1, event.time);
  w.tag(2, wire.bytes);
  w.string(event.name);
  if (event.attributes) writeAttributes(w, event.attributes, 3);
  w.tag(4, wire.varint);
  w.varint(event.droppedAttributesCount ?? 0);
  w.end(start);
}

function writeLink(w: ProtobufWriter, link: Link): void {
  w.tag(13, wire.bytes);
  const start = w.begin();
  w.tag(1, wire.bytes);
  w.hexBytes(link.context.traceId);
  w.tag(2, wire.bytes);
  w.hexBytes(link.context.spanId);
  optionalString(w, 3, link.context.traceState?.serialize());
  if (link.attributes) writeAttributes(w, link.attributes, 4);
  w.tag(5, wire.varint);
  w.varint(link.droppedAttributesCount ?? 0);
  writeFlags(w, 6, link.context, link.context.isRemote);
  w.end(start);
}

function writeFlags(w: ProtobufWriter, field: number, ctx: SpanContext, isRemote: boolean | undefined): void {
  w.tag(field, wire.fixed32);
  w.fixed32((ctx.traceFlags & 0xff) | contextHasIsRemote | (isRemote ? contextIsRemote : 0));
}

/** A string field the SDK's serializer leaves out when empty or absent (proto3: "" is the default). */
function optionalString(w: ProtobufWriter, field: number, value: string | undefined): void {
  if (!value) return;
  w.tag(field, wire.bytes);
  w.string(value);
}

function writeTime(w: ProtobufWriter, field: number, time: HrTime): void {
  w.tag(field, wire.fixed64);
  w.hrTimeFixed64(time[0], time[1]);
}

/** Repeated KeyValue under `field`, in the attributes' own order. */
function writeAttributes(w: ProtobufWriter, attributes: Attributes, field: number): void {
  const keys = Object.keys(attributes);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    w.tag(field, wire.bytes);
    const start = w.begin();
    writeKeyValue(w, key, attributes[key]);
    w.end(start);
  }
}

function writeKeyValue(w: ProtobufWriter, key: string, value: unknown): void {
  w.tag(1, wire.bytes);
  w.string(key);
  w.tag(2, wire.bytes);
  const start = w.begin();
  writeAnyValue(w, value);
  w.end(start);
}

/** AnyValue: string 1, bool 2, int 3, double 4, array 5, key-value list 6, bytes 7; nothing for null. */
function writeAnyValue(w: ProtobufWriter, value: AttributeValue | unknown): void {
  if (typeof value === 'string') {
    w.tag(1, wire.bytes);
    w.string(value);
  } else if (typeof value === 'boolean') {
    w.tag(2, wire.varint);
    w.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= min64 && value < max64) {
      w.tag(3, wire.varint);
      w.varint(value);
    } else {
      w.tag(4, wire.fixed64);
      w.double(value);
    }
  } else if (value instanceof Uint8Array) {
    w.tag(7, wire.bytes);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, wire.bytes);
    const list = w.begin();
    for (const item of value) {
      w.tag(1, wire.bytes);
      const start = w.begin();
      writeAnyValue(w, item);
      w.end(start);
    }
    w.end(list);
  } else if (typeof value === 'object' && value !== null) {
    w.tag(6, wire.bytes);
    const list = w.begin();
    writeAttributes(w, value as Attributes, 1);
    w.end(list);
  }
}

// The OTLP/HTTP protobuf encoding of a trace export (ExportTraceServiceRequest of
// opentelemetry-proto, trace/v1), what the roles' exporter sends by default and Jaeger's port 4318
// accepts, read into the shape of its JSON encoding (otlp-json.ts): ids in hex, times as decimal
// strings, attributes as {key, value: {stringValue | boolValue | ...}}. So every receiver of ours
// reads both encodings through one `spansOf`. Only the fields a receiver shows are kept; unknown
// fields are skipped, as protobuf readers do. A malformed body is an OtlpDecodeError, never a crash.
import type { OtlpExportRequest } from './otlp-json.ts';
import { fields, OtlpDecodeError, Reader, wire } from './protobuf-reader.ts';

export { OtlpDecodeError } from './protobuf-reader.ts';

/** Arrays of arrays of values: deeper than this is refused rather than followed. */
const maxValueDepth = 8;

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number; arrayValue?: { values: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

const signed64 = (v: bigint): bigint => BigInt.asIntN(64, v);

function anyValue(r: Reader, depth: number): AnyValue {
  if (depth > maxValueDepth) throw new OtlpDecodeError(`attribute values nested deeper than ${maxValueDepth}`);
  let out: AnyValue = {};
  fields(r, (field, type) => {
    if (field === 1 && type === wire.bytes) out = { stringValue: r.string() };
    else if (field === 2 && type === wire.varint) out = { boolValue: r.varint() !== 0 };
    else if (field === 3 && type === wire.varint) out = { intValue: signed64(r.bigVarint()).toString() };
    else if (field === 4 && type === wire.fixed64) out = { doubleValue: r.double() };
    else if (field === 5 && type === wire.bytes) {
      const list = r.sub();
      const values: AnyValue[] = [];
      fields(list, (f, t) => (f === 1 && t === wire.bytes ? (values.push(anyValue(list.sub(), depth + 1)), true) : false));
      out = { arrayValue: { values } };
    } else return false;
    return true;
  });
  return out;
}

function keyValue(r: Reader): KeyValue {
  const kv: KeyValue = { key: '', value: {} };
  fields(r, (field, type) => {
    if (field === 1 && type === wire.bytes) kv.key = r.string();
    else if (field === 2 && type === wire.bytes) kv.value = anyValue(r.sub(), 1);
    else return false;
    return true;
  });
  return kv;
}

function event(r: Reader): { name: string; attributes: KeyValue[] } {
  const e = { name: '', attributes: [] as KeyValue[] };
  fields(r, (field, type) => {
    if (field === 2 && type === wire.bytes) e.name = r.string();
    else if (field === 3 && type === wire.bytes) e.attributes.push(keyValue(r.sub()));
    else return false;
    return true;
  });
  return e;
}

function link(r: Reader): { traceId: string; spanId: string } {
  const l = { traceId: '', spanId: '' };
  fields(r, (field, type) => {
    if (field === 1 && type === wire.bytes) l.traceId = r.bytes().toString('hex');
    else if (field === 2 && type === wire.bytes) l.spanId = r.bytes().toString('hex');
    else return false;
    return true;
  });
  return l;
}

function status(r: Reader): { code?: number; message?: string } {
  const s: { code?: number; message?: string } = {};
  fields(r, (field, type) => {
    if (field === 2 && type === wire.bytes) s.message = r.string();
    else if (field === 3 && type === wire.varint) s.code = r.varint();
    else return false;
    return true;
  });
  return s;
}

type ResourceSpans = NonNullable<OtlpExportRequest['resourceSpans']>[number];
type ScopeSpans = NonNullable<ResourceSpans['scopeSpans']>[number];
type Span = NonNullable<ScopeSpans['spans']>[number];

function span(r: Reader): Span {
  const s: Span = { traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [], events: [], links: [] };
  fields(r, (field, type) => {
    if (field === 1 && type === wire.bytes) s.traceId = r.bytes().toString('hex');
    else if (field === 2 && type === wire.bytes) s.spanId = r.bytes().toString('hex');
    else if (field === 4 && type === wire.bytes) s.parentSpanId = r.bytes().toString('hex');
    else if (field === 5 && type === wire.bytes) s.name = r.string();
    else if (field === 6 && type === wire.varint) s.kind = r.varint();
    else if (field === 7 && type === wire.fixed64) s.startTimeUnixNano = r.fixed64().toString();
    else if (field === 8 && type === wire.fixed64) s.endTimeUnixNano = r.fixed64().toString();
    else if (field === 9 && type === wire.bytes) s.attributes?.push(keyValue(r.sub()));
    else if (field === 11 && type === wire.bytes) s.events?.push(event(r.sub()));
    else if (field === 13 && type === wire.bytes) s.links?.push(link(r.sub()));
    else if (field === 15 && type === wire.bytes) s.status = status(r.sub());
    else return false;
    return true;
  });
  return s;
}

function attributesOf(r: Reader): KeyValue[] {
  const out: KeyValue[] = [];
  fields(r, (field, type) => (field === 1 && type === wire.bytes ? (out.push(keyValue(r.sub())), true) : false));
  return out;
}

function scopeName(r: Reader): string {
  let name = '';
  fields(r, (field, type) => (field === 1 && type === wire.bytes ? ((name = r.string()), true) : false));
  return name;
}

function scopeSpans(r: Reader): { scope: { name: string }; spans: Span[] } {
  const ss = { scope: { name: '' }, spans: [] as Span[] };
  fields(r, (field, type) => {
    if (field === 1 && type === wire.bytes) ss.scope.name = scopeName(r.sub());
    else if (field === 2 && type === wire.bytes) ss.spans.push(span(r.sub()));
    else return false;
    return true;
  });
  return ss;
}

function resourceSpans(r: Reader): ResourceSpans {
  const rs = { resource: { attributes: [] as KeyValue[] }, scopeSpans: [] as ReturnType<typeof scopeSpans>[] };
  fields(r, (field, type) => {
    if (field === 1 && type === wire.bytes) rs.resource.attributes = attributesOf(r.sub());
    else if (field === 2 && type === wire.bytes) rs.scopeSpans.push(scopeSpans(r.sub()));
    else return false;
    return true;
  });
  return rs;
}

/** An ExportTraceServiceRequest in the protobuf encoding, as its JSON encoding reads. */
export function decodeTraceExport(body: Buffer): OtlpExportRequest {
  const r = new Reader(body);
  const out: OtlpExportRequest = { resourceSpans: [] };
  fields(r, (field, type) => (field === 1 && type === wire.bytes ? (out.resourceSpans?.push(resourceSpans(r.sub())), true) : false));
  return out;
}

/** How many spans an export in the protobuf encoding carries, reading only its containers (the benchmark's sink). */
export function countSpans(body: Buffer): number {
  let count = 0;
  const r = new Reader(body);
  fields(r, (field, type) => {
    if (field !== 1 || type !== wire.bytes) return false;
    const rs = r.sub();
    fields(rs, (f, t) => {
      if (f !== 2 || t !== wire.bytes) return false;
      const ss = rs.sub();
      fields(ss, (g, u) => (g === 2 && u === wire.bytes ? (ss.bytes(), (count += 1), true) : false));
      return true;
    });
    return true;
  });
  return count;
}

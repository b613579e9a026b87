// A trace export as an OTLP/HTTP receiver gets it (POST /v1/traces), in either encoding the
// specification defines: `application/x-protobuf` (what the roles send by default) or
// `application/json`. One reading for every receiver of ours: the console's, the tests', the
// compose test's Jaeger stand-in.
import { otlpExportRequest, type OtlpExportRequest } from './otlp-json.ts';
import { decodeTraceExport, OtlpDecodeError } from './otlp-protobuf.ts';

export const otlpContentTypes = { json: 'application/json', protobuf: 'application/x-protobuf' } as const;
export type OtlpEncoding = keyof typeof otlpContentTypes;

/** The encoding a Content-Type names, or undefined for one OTLP/HTTP does not define (a 415). */
export function exportEncoding(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return type === otlpContentTypes.protobuf ? 'protobuf' : type === otlpContentTypes.json ? 'json' : undefined;
}

export function unsupportedEncoding(contentType: string | undefined): string {
  return `OTLP/HTTP comes as ${otlpContentTypes.protobuf} or ${otlpContentTypes.json}, not "${contentType ?? ''}"`;
}

/**
 * The answer to an export taken in full, in the request's own encoding as OTLP/HTTP requires: an
 * empty ExportTraceServiceResponse. (The protobuf exporter cannot read `{}` and warns on every
 * export.)
 */
export function exportTaken(encoding: OtlpEncoding): { contentType: string; body: string } {
  return encoding === 'protobuf' ? { contentType: otlpContentTypes.protobuf, body: '' } : { contentType: otlpContentTypes.json, body: '{}' };
}

/** gRPC's status codes for the HTTP statuses a receiver of ours refuses with (OTLP/HTTP carries
 * a google.rpc.Status in the body of a 4xx or 5xx). */
const statusCodes: Record<number, number> = { 400: 3, 401: 16, 404: 12, 405: 12, 413: 8, 415: 3, 500: 13 };

/**
 * The body of a refusal, as OTLP/HTTP requires: a google.rpc.Status (`code`, `message`) in the
 * request's encoding, or JSON when the request's encoding is not one OTLP has (a 415).
 */
export function exportRefused(encoding: OtlpEncoding | undefined, httpStatus: number, message: string): { contentType: string; body: Buffer | string } {
  const code = statusCodes[httpStatus] ?? 2; // 2: UNKNOWN
  if (encoding !== 'protobuf') return { contentType: otlpContentTypes.json, body: JSON.stringify({ code, message }) };
  const text = Buffer.from(message, 'utf8');
  // Field 1 (code, varint) and field 2 (message, length-delimited); every code above is one byte.
  return { contentType: otlpContentTypes.protobuf, body: Buffer.concat([Buffer.from([0x08, code, 0x12]), varint(text.length), text]) };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

export type ExportReading = { ok: true; request: OtlpExportRequest } | { ok: false; message: string };

/** The export in the body; not ok (a 400) when the body is not one. */
export function readTraceExport(encoding: OtlpEncoding, body: Buffer): ExportReading {
  if (encoding === 'protobuf') {
    try {
      return { ok: true, request: decodeTraceExport(body) };
    } catch (err) {
      if (!(err instanceof OtlpDecodeError)) throw err;
      return { ok: false, message: `not an OTLP protobuf trace export: ${err.message}` };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch { /* answered below */ }
  const parsed = otlpExportRequest.safeParse(json);
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, message: 'not an OTLP JSON trace export' };
}

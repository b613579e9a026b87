// An OTLP/HTTP trace receiver for tests (Jaeger cannot run here): POST /v1/traces in either OTLP
// encoding (protobuf or JSON), as Jaeger's port 4318 accepts them. Every span received is kept, flattened,
// with its service name, so a test can rebuild a trace and walk its parent/child chain.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportEncoding, exportRefused, exportTaken, readTraceExport, unsupportedEncoding } from '#platform/telemetry/otlp-export.ts';
import { spansOf, type ReceivedSpan } from '#platform/telemetry/otlp-json.ts';

export { spanKind, statusCode, type ReceivedSpan } from '#platform/telemetry/otlp-json.ts';

export type OtlpReceiver = {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests received (including empty ones) and requests refused as malformed. */
  requests: number;
  problems: string[];
  /** The encodings the exports came in. */
  encodings: Set<'json' | 'protobuf'>;
  trace(traceId: string): ReceivedSpan[];
  close(): Promise<void>;
};

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, 'url' | 'close'> = {
    spans: [], requests: 0, problems: [], encodings: new Set(),
    trace: (traceId) => receiver.spans.filter((s) => s.traceId === traceId),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests += 1;
      const encoding = exportEncoding(req.headers['content-type']);
      const refuse = (status: number, why: string) => {
        receiver.problems.push(why);
        const refused = exportRefused(encoding, status, why);
        res.writeHead(status, { 'content-type': refused.contentType }).end(refused.body);
      };
      if (req.method !== 'POST' || req.url !== '/v1/traces') return refuse(404, `${req.method} ${req.url}`);
      if (!encoding) return refuse(415, unsupportedEncoding(req.headers['content-type']));
      const reading = readTraceExport(encoding, Buffer.concat(chunks));
      if (!reading.ok) return refuse(400, reading.message);
      receiver.encodings.add(encoding);
      receiver.spans.push(...spansOf(reading.request));
      const taken = exportTaken(encoding);
      res.writeHead(200, { 'content-type': taken.contentType }).end(taken.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    get spans() { return receiver.spans; },
    get requests() { return receiver.requests; },
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

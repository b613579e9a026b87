// The console's own OTLP/HTTP trace receiver, for a machine without Jaeger (`tps up` turns it on
// when nothing answers on the OTLP port, and gives the roles its address and token): POST
// /v1/traces in either OTLP encoding (protobuf, what the roles' exporter sends by default, or
// JSON), optionally gzipped, into the bounded trace store. It changes what the console shows, so it wants the token the supervisor handed out
// (Authorization: Bearer, sent by the roles through OTEL_EXPORTER_OTLP_HEADERS) and listens on
// loopback unless told otherwise.
import type http from 'node:http';
import { http as nodeHttp } from '#platform/http/node-http.ts';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Logger } from '#platform/logger.ts';
import { exportEncoding, exportRefused, exportTaken, readTraceExport, unsupportedEncoding, type OtlpEncoding } from '#platform/telemetry/otlp-export.ts';
import { spansOf } from '#platform/telemetry/otlp-json.ts';
import { bearerChecker } from '../admin/auth.ts';
import type { TraceStore } from './trace-store.ts';

const maxBodyBytes = 8 * 1024 * 1024;
const unzip = promisify(gunzip);

export type OtlpReceiverOptions = { host: string; port: number; token: string; store: TraceStore; logger: Logger };
export type RunningReceiver = { url: string; close(): Promise<void> };

/** A refusal, in the request's encoding (OTLP/HTTP's google.rpc.Status), JSON when it has none. */
function refuse(res: http.ServerResponse, encoding: OtlpEncoding | undefined, status: number, message: string, close = false): void {
  const refused = exportRefused(encoding, status, message);
  res.writeHead(status, { 'content-type': refused.contentType, ...(close ? { connection: 'close' } : {}) }).end(refused.body);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? unzip(body, { maxOutputLength: maxBodyBytes }) : body;
}

type Handling = OtlpReceiverOptions & { authorized: (header: string | undefined) => boolean };

async function handle(req: http.IncomingMessage, res: http.ServerResponse, opts: Handling): Promise<void> {
  const encoding = exportEncoding(req.headers['content-type']);
  if (req.method !== 'POST' || req.url !== '/v1/traces') return refuse(res, encoding, 404, 'only POST /v1/traces (OTLP/HTTP) is served here');
  if (!opts.authorized(req.headers.authorization)) return refuse(res, encoding, 401, 'the console\'s OTLP receiver wants its token (OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer <token>)');
  if (!encoding) return refuse(res, encoding, 415, unsupportedEncoding(req.headers['content-type']));
  const body = await readBody(req).catch(() => null);
  // The rest of the body is never read: the connection closes after the answer.
  if (body === undefined) return refuse(res, encoding, 413, `an export over ${maxBodyBytes} bytes`, true);
  const reading = body === null ? { ok: false as const, message: 'the export could not be read' } : readTraceExport(encoding, body);
  if (!reading.ok) return refuse(res, encoding, 400, reading.message);
  opts.store.add(spansOf(reading.request));
  const taken = exportTaken(encoding);
  res.writeHead(200, { 'content-type': taken.contentType }).end(taken.body);
}

export async function startOtlpReceiver(opts: OtlpReceiverOptions): Promise<RunningReceiver> {
  const handling = { ...opts, authorized: bearerChecker(opts.token) };
  const server = nodeHttp.createServer((req, res) => {
    handle(req, res, handling).catch((err: unknown) => {
      opts.logger.warn({ err }, 'console OTLP receiver: an export failed');
      if (!res.headersSent) refuse(res, exportEncoding(req.headers['content-type']), 500, 'the export could not be read');
    });
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

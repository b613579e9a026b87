// Answering a request before Fastify sees it, when the answer follows from the method, the URL,
// the headers, cached state and perhaps a small JSON body (the ingress sheds load this way: no
// routing, hooks or error machinery). A request the hook passes on reaches Fastify untouched; a
// body it read reaches Fastify's parser as if it had never been read.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { LatencyHistogram } from '../metrics.ts';

/**
 * Each step returns the route it answered for, for the duration histogram, or undefined to hand
 * the request to Fastify untouched.
 */
export type Preempt = {
  /** Before the body is read. `'read-body'` asks for `withBody` once the body is in. */
  beforeBody(req: IncomingMessage, res: ServerResponse): string | 'read-body' | undefined;
  /**
   * With the body read, only for a JSON body within the body limit that declares its length;
   * anything else goes to Fastify unread, which answers 413, 415 or 400 as usual. A body this
   * step passes on reaches Fastify's parser as if it had never been read.
   */
  withBody(req: IncomingMessage, res: ServerResponse, body: Buffer): string | undefined;
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Duration = LatencyHistogram<'service' | 'route' | 'method' | 'code'>;
type Answered = (req: IncomingMessage, res: ServerResponse, route: string, started: number) => void;

/** The body a preempt hook read, handed on to Fastify's parser instead of the spent stream. */
const prereadBody = Symbol('tps.prereadBody');
type PrereadRequest = IncomingMessage & { [prereadBody]?: Buffer };

const jsonMediaType = /^application\/json\s*(?:;|$)/i;

/** Whether the preempt hook may read the body itself; anything else is left to Fastify. */
function mayReadBody(req: IncomingMessage, limit: number): boolean {
  if (req.headers['transfer-encoding'] !== undefined || !jsonMediaType.test(req.headers['content-type'] ?? '')) return false;
  const length = Number(req.headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= limit;
}

/** Fastify's request handler with the preempt hook in front; preempted answers are timed too. */
export function preempting(handler: Handler, preempt: Preempt, opts: { service: string; bodyLimit: number; duration: Duration }): Handler {
  const answered = answeredObserver(opts.service, opts.duration);
  return (req, res) => {
    const started = performance.now();
    const route = preempt.beforeBody(req, res);
    if (route === undefined) return handler(req, res);
    if (route !== 'read-body') return answered(req, res, route, started);
    if (!mayReadBody(req, opts.bodyLimit)) return handler(req, res);
    const chunks: Buffer[] = [];
    // A client that goes away mid-body leaves nothing to answer; the socket is already closed.
    req.on('error', () => {});
    // 'readable' rather than 'data' + 'end': a small body has arrived whole by the first event
    // (`complete`), so it is decided one turn earlier, with less stream machinery per refusal.
    const onReadable = () => {
      for (let chunk: Buffer | null; (chunk = req.read() as Buffer | null) !== null;) chunks.push(chunk);
      if (!req.complete) return;
      req.off('readable', onReadable);
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const bodyRoute = preempt.withBody(req, res, body);
      if (bodyRoute !== undefined) return answered(req, res, bodyRoute, started);
      (req as PrereadRequest)[prereadBody] = body;
      handler(req, res);
    };
    req.on('readable', onReadable);
  };
}

/**
 * Records a preempted answer in the request duration histogram. Bound once per route, method and
 * status (each a small fixed set: the hook's routes, the methods Node's parser knows), so a
 * preempted answer costs no label-set lookup.
 */
function answeredObserver(service: string, duration: Duration): Answered {
  const bound = new Map<string, Map<string, Map<number, (seconds: number) => void>>>();
  const observerOf = (route: string, method: string, status: number) => {
    let byMethod = bound.get(route);
    if (byMethod === undefined) bound.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let observe = byStatus.get(status);
    if (observe === undefined) byStatus.set(status, (observe = duration.bind({ service, route, method, code: String(status) })));
    return observe;
  };
  return (req, res, route, started) => observerOf(route, req.method ?? 'GET', res.statusCode)((performance.now() - started) / 1000);
}

/** Hands a body the preempt hook read to Fastify's parser, in place of the spent request stream. */
export function handOnPrereadBodies(app: FastifyInstance): void {
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const body = (request.raw as PrereadRequest)[prereadBody];
    if (body === undefined) return done(null, payload);
    const replay = new PassThrough();
    replay.end(body);
    done(null, replay);
  });
}

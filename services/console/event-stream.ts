// Server-sent event streams of the console's live pages: one per open page, each sent what its
// source produces. A comment now and then keeps proxies from closing a quiet stream, and every open
// stream ends when the console stops (closing the server would otherwise wait on them).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type Send = (event: string, data: unknown) => void;
/** Starts feeding one stream; returns how to stop. */
export type Feed = (send: Send) => () => void;

export type EventStream = (request: FastifyRequest, reply: FastifyReply, feed: Feed) => void;

export function eventStreams(app: FastifyInstance, headers: Record<string, string>, retryMs: number): EventStream {
  const open = new Set<FastifyReply['raw']>();
  app.addHook('preClose', async () => { for (const res of open) res.end(); });
  return (request: FastifyRequest, reply: FastifyReply, feed: Feed): void => {
    reply.hijack();
    const res = reply.raw;
    open.add(res);
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: ${retryMs}\n\n`);
    const stop = feed((event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const close = () => { clearInterval(keepAlive); stop(); open.delete(res); };
    request.raw.on('close', close);
    res.on('error', close);
  };
}

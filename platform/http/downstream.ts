// Calls to the next service of the chain: one keep-alive connection pool and one breaker per
// caller -> target, the job id as Idempotency-Key, the deadline in a header, and every outcome
// mapped to an error type the caller can act on (client error, downstream failure, timeout).
import { Pool } from './undici-pool.ts';
import { createBreaker, ClientError, type Breaker, type BreakerPolicy } from '../breaker.ts';
import type { Chaos } from '../chaos/injector.ts';
import { InjectedFault } from '../chaos/injector.ts';
import type { Logger } from '../logger.ts';
import { histogram, metrics, type MetricsRegistry } from '../metrics.ts';
import { withDeadline } from '../deadline.ts';
import { lookup } from '../dns.ts';
import { isTimeout } from '../errors.ts';
import { inClientSpan } from '../telemetry/client-spans.ts';

export const deadlineHeader = 'tps-deadline';
export const attemptHeader = 'tps-attempt';

export type WorkRequest = { jobId: string; type: string; payload?: unknown; attempt: number; deadline: number };
/** A hop's answer; `from` when the caller answered for it: its cache, or a fallback (cache or declared). */
export type HopResult = { service: string; ms: number; next?: HopResult; from?: 'cache' | 'fallback-cache' | 'fallback-declared' };

/** The next service answered 5xx, or could not be reached. Retryable. */
export class DownstreamError extends Error {
  readonly status: number;
  readonly code: string;
  /** The failure happened further down the chain; the target itself answered promptly. */
  readonly propagated: boolean;
  constructor(target: string, status: number, code: string, message: string) {
    super(`${target}: ${message}`);
    this.name = 'DownstreamError';
    this.status = status;
    this.code = code;
    this.propagated = code === 'DOWNSTREAM_FAILED' || code === 'CIRCUIT_OPEN';
  }
}

/** Codes with which a service says "a service behind me failed", not "I failed". */
export type DownstreamClient = {
  call(request: WorkRequest): Promise<HopResult>;
  readonly breaker: Breaker<[WorkRequest], HopResult>;
  close(): Promise<void>;
};

export type DownstreamOptions = {
  caller: string;
  target: string;
  url: string;
  policy: BreakerPolicy;
  /** Count failures reported from further down as failures of this target (worker breakers do). */
  countPropagated: boolean;
  chaos: Chaos;
  registry: MetricsRegistry;
  logger: Logger;
  extraHeaders?: () => Record<string, string>;
};

export function createDownstreamClient(opts: DownstreamOptions): DownstreamClient {
  const target = new URL(opts.url);
  // The next hop's name resolved by platform/dns.ts: a stopped hop's name that DNS leaves
  // unanswered fails the connect in seconds, and holds none of libuv's four threads meanwhile.
  const pool = new Pool(opts.url, { connections: Math.max(8, opts.policy.capacity), pipelining: 1, keepAliveTimeout: 30_000, connect: { lookup } });
  const duration = histogram(opts.registry, metrics.downstreamDuration);
  const labels = (outcome: string) => ({ caller: opts.caller, target: opts.target, outcome });

  async function send(signal: AbortSignal, req: WorkRequest): Promise<HopResult> {
    const started = performance.now();
    let outcome = 'success';
    try {
      // The next hop gets the smaller of the job's deadline and this call's own timeout: it must
      // not finish work this caller has already given up on (reliability matrix D6).
      const deadline = Math.min(req.deadline, Date.now() + breaker.policy.timeoutMs);
      await opts.chaos.outbound(signal);
      const remaining = deadline - Date.now();
      const exchange = (callSignal: AbortSignal) => postWork(pool, target, req, deadline, opts.extraHeaders?.() ?? {}, callSignal);
      // A deadline already passed is the next hop's to refuse (a 4xx, not a failure of it).
      const { status, body } = remaining > 0 ? await withDeadline(remaining, exchange, signal) : await exchange(signal);
      if (status >= 200 && status < 300) return body as HopResult;
      const code = body.code ?? `HTTP_${status}`;
      const message = body.message ?? `answered ${status}`;
      if (status < 500) {
        outcome = 'client_error';
        throw new ClientError(status, code, `${opts.target}: ${message}`);
      }
      outcome = 'server_error';
      throw new DownstreamError(opts.target, status, code, message);
    } catch (err) {
      if (outcome === 'success') outcome = classifyOutcome(err);
      if (err instanceof InjectedFault) throw new DownstreamError(opts.caller, err.status, 'FAULT_INJECTED', err.message);
      if (err instanceof ClientError || err instanceof DownstreamError) throw err;
      if (isTimeout(err)) throw err;
      throw new DownstreamError(opts.target, 0, 'UNREACHABLE', `cannot reach ${opts.url} (${(err as Error).message})`);
    } finally {
      duration.observe(labels(outcome), (performance.now() - started) / 1000);
    }
  }

  const breaker = createBreaker<[WorkRequest], HopResult>(`${opts.caller}->${opts.target}`, opts.policy, send, {
    registry: opts.registry,
    logger: opts.logger,
    isFailure: (err) => !(err instanceof ClientError) && !(err instanceof DownstreamError && err.propagated && !opts.countPropagated),
  });

  return {
    call: (request) => breaker.fire(request),
    breaker,
    close: async () => { breaker.shutdown(); await pool.close(); },
  };
}

type WorkAnswer = { status: number; body: { code?: string; message?: string } & Partial<HopResult> };

/** One POST /work, its answer read whole (body too) under `signal`, in a client span when tracing. */
async function postWork(pool: Pool, target: URL, req: WorkRequest, deadline: number, extraHeaders: Record<string, string>, signal: AbortSignal): Promise<WorkAnswer> {
  const headers = {
    'content-type': 'application/json',
    'idempotency-key': req.jobId,
    [deadlineHeader]: String(deadline),
    [attemptHeader]: String(req.attempt),
    ...extraHeaders,
  };
  return inClientSpan('POST', target, '/work', headers, async (sent) => {
    const res = await pool.request({
      path: '/work', method: 'POST', headers: sent, signal,
      body: JSON.stringify({ jobId: req.jobId, type: req.type, payload: req.payload, attempt: req.attempt }),
    });
    const body = (await res.body.json().catch(() => ({}))) as WorkAnswer['body'];
    return { status: res.statusCode, body };
  });
}

function classifyOutcome(err: unknown): string {
  if (isTimeout(err)) return 'timeout';
  if (err instanceof InjectedFault) return 'server_error';
  return 'unreachable';
}

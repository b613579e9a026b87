// classify() decides retry vs dead-letter for every failure; the pool loop only carries it out.
import { describe, expect, it } from 'vitest';
import { BreakerOpenError, CallTimeoutError, ClientError } from '#platform/breaker.ts';
import { DownstreamError } from '#platform/http/downstream.ts';
import { BadMessageError, classify, describeFailure, type JobFailure } from '#workers/classify.ts';

const policy = { retryBackoffMs: [200, 1_000, 3_000], maxDeliver: 4 };

describe('describeFailure', () => {
  it('records a code a service answered that the catalogue does not know as its kind\'s code, keeping the original', () => {
    expect(describeFailure(new DownstreamError('service-a', 502, 'HTTP_502', 'answered 502'))).toEqual({ code: 'DOWNSTREAM_FAILED', message: 'HTTP_502: service-a: answered 502', kind: 'retryable' });
    expect(describeFailure(new ClientError(409, 'SOMETHING_NEW', 'conflict'))).toEqual({ code: 'INVALID_REQUEST', message: 'SOMETHING_NEW: conflict', kind: 'permanent' });
  });

  it.each([
    [new ClientError(422, 'INVALID_PAYLOAD', 'bad key'), 'INVALID_PAYLOAD', 'permanent'],
    [new ClientError(400, 'INVALID_REQUEST', 'bad'), 'INVALID_REQUEST', 'permanent'],
    [new BadMessageError('not json'), 'BAD_MESSAGE', 'permanent'],
    [new DownstreamError('service-a', 500, 'FAULT_INJECTED', 'boom'), 'FAULT_INJECTED', 'retryable'],
    [new DownstreamError('service-a', 502, 'DOWNSTREAM_FAILED', 'b failed'), 'DOWNSTREAM_FAILED', 'retryable'],
    [new DownstreamError('service-a', 503, 'OVERLOADED', 'busy'), 'OVERLOADED', 'retryable'],
    [new DownstreamError('service-a', 0, 'UNREACHABLE', 'refused'), 'UNREACHABLE', 'retryable'],
    [new BreakerOpenError('worker-fast->service-a', 'open'), 'CIRCUIT_OPEN', 'retryable'],
    [new CallTimeoutError('worker-fast->service-a', 2000), 'TIMEOUT', 'retryable'],
    [new Error('something else'), 'INTERNAL', 'retryable'],
  ] as const)('%s -> %s (%s)', (err, code, kind) => {
    expect(describeFailure(err)).toMatchObject({ code, kind });
  });
});

describe('classify', () => {
  const retryable: JobFailure = { code: 'DOWNSTREAM_FAILED', message: 'x', kind: 'retryable' };
  const permanent: JobFailure = { code: 'INVALID_PAYLOAD', message: 'x', kind: 'permanent' };

  it('dead-letters a permanent failure on the first attempt', () => {
    expect(classify(permanent, 1, policy)).toEqual({ action: 'dead_letter', reason: 'permanent', failure: permanent });
  });

  it('retries a retryable failure with the backoff of its attempt', () => {
    expect([1, 2, 3].map((d) => classify(retryable, d, policy))).toEqual([
      { action: 'retry', delayMs: 200, failure: retryable },
      { action: 'retry', delayMs: 1_000, failure: retryable },
      { action: 'retry', delayMs: 3_000, failure: retryable },
    ]);
  });

  it('dead-letters once the last delivery has failed', () => {
    expect(classify(retryable, 4, policy)).toEqual({ action: 'dead_letter', reason: 'retries_exhausted', failure: retryable });
    expect(classify(retryable, 9, policy).action).toBe('dead_letter');
  });

  it('uses the last backoff when there are more deliveries than steps', () => {
    expect(classify(retryable, 3, { retryBackoffMs: [100], maxDeliver: 10 })).toMatchObject({ action: 'retry', delayMs: 100 });
  });
});

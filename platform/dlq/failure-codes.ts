// The codes a failed job attempt (and so a DLQ entry, `tps dlq list`, `GET /jobs/:id`) carries:
// one catalogue, equal to the table in docs/errors.md (tests/errors-doc.test.ts). A code a
// downstream answers that is not here is recorded as DOWNSTREAM_FAILED or INVALID_REQUEST, with
// the original code kept in the message, so every entry means what this table says.

export type FailureKind = 'permanent' | 'retryable';
type FailureCode = { kind: FailureKind; meaning: string; action: string };

export const failureCodes = {
  INVALID_PAYLOAD: { kind: 'permanent', meaning: 'service-a refused the payload for its job type (422): a poison job', action: 'fix the producer; purge, or replay once the payload is fixed' },
  INVALID_REQUEST: { kind: 'permanent', meaning: 'a service refused the request as malformed (4xx)', action: 'a bug between worker and service: read the message, fix, replay' },
  UNKNOWN_JOB_TYPE: { kind: 'permanent', meaning: 'a service does not know the job type (catalogues out of step)', action: 'deploy the same job catalogue everywhere, then replay' },
  BAD_MESSAGE: { kind: 'permanent', meaning: 'the message on the job stream is not a valid job', action: 'purge it, and find what published it' },
  DOWNSTREAM_FAILED: { kind: 'retryable', meaning: 'a service further down the chain failed or did not answer in time', action: 'find the failing hop (trace, breakers), fix it, replay' },
  CIRCUIT_OPEN: { kind: 'retryable', meaning: 'a breaker on the way was open on every attempt', action: 'the downstream is failing: fix it, then replay' },
  OVERLOADED: { kind: 'retryable', meaning: 'a service was at its concurrency limit on every attempt', action: 'lower the load or raise CHAIN_CONCURRENCY, then replay' },
  DEADLINE_EXCEEDED: { kind: 'retryable', meaning: 'the attempt\'s deadline passed before the chain finished', action: 'find the slow hop (trace); raise the deadline only if the work needs it' },
  TIMEOUT: { kind: 'retryable', meaning: 'the worker\'s call to service-a timed out', action: 'find the slow hop (trace), fix it, replay' },
  UNREACHABLE: { kind: 'retryable', meaning: 'a service could not be reached (connection refused or reset)', action: 'start the service (`tps status`), then replay' },
  FAULT_INJECTED: { kind: 'retryable', meaning: 'a chaos fault failed the call', action: 'clear the fault (`make chaos-stop`), then replay' },
  WORKER_TIMEOUT: { kind: 'retryable', meaning: 'no worker finished the job within ack_wait on its last delivery (crashed, hung, or the DLQ was full)', action: 'check the workers\' logs and restarts; replay' },
  INTERNAL: { kind: 'retryable', meaning: 'an unexpected error in the worker', action: 'read the worker\'s log for the job id; fix; replay' },
} as const satisfies Record<string, FailureCode>;

export type FailureCodeName = keyof typeof failureCodes;

export function isFailureCode(code: string): code is FailureCodeName {
  return Object.hasOwn(failureCodes, code);
}

/** A code a downstream answered, as a catalogue code: its own when catalogued, else the kind's fallback. */
export function catalogued(code: string, kind: FailureKind): { code: FailureCodeName; original?: string } {
  if (isFailureCode(code)) return { code };
  return { code: kind === 'permanent' ? 'INVALID_REQUEST' : 'DOWNSTREAM_FAILED', original: code };
}

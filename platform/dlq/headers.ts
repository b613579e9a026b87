// The headers a DLQ entry carries besides the job's own (trace context): written by the workers'
// dead-lettering, read by the DLQ operations (`tps dlq`, the admin API).
export const dlqHeaders = {
  errorCode: 'Tps-Error-Code',
  errorMessage: 'Tps-Error-Message',
  reason: 'Tps-Dead-Letter-Reason',
  attempts: 'Tps-Attempts',
  firstFailure: 'Tps-First-Failure',
  lastFailure: 'Tps-Last-Failure',
  traceId: 'Tps-Trace-Id',
  jobId: 'Tps-Job-Id',
  jobType: 'Tps-Job-Type',
  pool: 'Tps-Pool',
  originalSubject: 'Tps-Original-Subject',
  originalSeq: 'Tps-Original-Seq',
  by: 'Tps-Dead-Lettered-By',
} as const;

// Which DLQ entries an operation acts on: explicit ids (stream sequences) and/or a filter by pool,
// job type, error code, dead-letter reason or job id. Every field given must match.
import { z } from 'zod';
import { poolNames } from '../pools.ts';
import type { DlqEntry } from './entries.ts';

export const dlqFilterSchema = z.strictObject({
  ids: z.array(z.number().int().positive()).min(1).max(10_000).optional(),
  pool: z.enum(poolNames).optional(),
  type: z.string().min(1).max(100).optional(),
  code: z.string().min(1).max(100).optional(),
  reason: z.string().min(1).max(100).optional(),
  jobId: z.string().min(1).max(100).optional(),
  /** At most this many entries, oldest first. */
  limit: z.number().int().positive().max(100_000).optional(),
});
export type DlqFilter = z.infer<typeof dlqFilterSchema>;

/** True when nothing narrows the selection (replay and purge refuse that without `all`). */
export function selectsEverything(filter: DlqFilter): boolean {
  return !filter.ids && !filter.pool && !filter.type && !filter.code && !filter.reason && !filter.jobId;
}

export function matches(entry: DlqEntry, filter: DlqFilter): boolean {
  return (!filter.ids || filter.ids.includes(entry.seq))
    && (!filter.pool || entry.pool === filter.pool)
    && (!filter.type || entry.type === filter.type)
    && (!filter.code || entry.code === filter.code)
    && (!filter.reason || entry.reason === filter.reason)
    && (!filter.jobId || entry.jobId === filter.jobId);
}

export function selectEntries(entries: readonly DlqEntry[], filter: DlqFilter): DlqEntry[] {
  const selected = entries.filter((e) => matches(e, filter));
  return filter.limit ? selected.slice(0, filter.limit) : selected;
}

/** "pool=fast code=FAULT_INJECTED", for confirmations, logs and events. */
export function describeFilter(filter: DlqFilter): string {
  const parts = Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  return parts.length ? parts.join(' ') : 'every entry';
}

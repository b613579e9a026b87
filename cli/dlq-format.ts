// How `tps dlq` shows entries and outcomes to an operator.
import type { DlqEntry } from '#platform/dlq/entries.ts';
import { groupEntries } from '#platform/dlq/entries.ts';
import type { PurgeOutcome } from '#platform/dlq/purge.ts';
import { maxReplays, type ReplayOutcome } from '#platform/dlq/replay.ts';
import { ago, table } from './session.ts';

/** "3-5, 9, 12" (at most `max` numbers shown). */
export function ranges(seqs: readonly number[], max = 12): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.length > max ? `${parts.slice(0, max).join(', ')}, ...` : parts.join(', ');
}

export function formatGroups(entries: readonly DlqEntry[]): string {
  if (entries.length === 0) return 'The DLQ is empty (for this filter).';
  const groups = groupEntries(entries);
  return [
    `${entries.length} dead-lettered job${entries.length === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'}:`,
    '',
    table([
      ['POOL', 'TYPE', 'ERROR CODE', 'COUNT', 'OLDEST', 'NEWEST', 'IDS'],
      ...groups.map((g) => [g.pool, g.type, g.code, g.count, ago(g.oldest), ago(g.newest), ranges(g.seqs)]),
    ]),
    '',
    'Details: `tps dlq show <id>`. After fixing the cause: `tps dlq replay --code <code> --dry-run`, then without --dry-run.',
  ].join('\n');
}

export function formatEntries(entries: readonly DlqEntry[]): string {
  if (entries.length === 0) return 'The DLQ is empty (for this filter).';
  return table([
    ['ID', 'JOB ID', 'TYPE', 'ERROR CODE', 'REASON', 'ATTEMPTS', 'DEAD-LETTERED'],
    ...entries.map((e) => [e.seq, e.jobId, e.type, e.code, e.reason, e.attempts, ago(e.deadLetteredAt)]),
  ]);
}

export function formatEntry(e: DlqEntry): string {
  const lines = [
    `Entry ${e.seq} (${e.subject}), dead-lettered ${ago(e.deadLetteredAt)} (${e.deadLetteredAt})${e.by ? ` by ${e.by}` : ''}`,
    `Job:       ${e.jobId} (${e.type}, ${e.pool} pool)${e.job ? `, accepted ${e.job.acceptedAt}` : ', NOT A VALID JOB MESSAGE (cannot be replayed)'}`,
    `Error:     ${e.code}: ${e.message}`,
    `Reason:    ${e.reason} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${e.firstFailure ? ` (first failure ${e.firstFailure}, last ${e.lastFailure ?? '?'})` : ''}`,
    `Trace id:  ${e.traceId ?? '(none)'}`,
    ...(e.job?.replayOf ? [`Replay of: job ${e.job.replayOf} (this job was itself a replay: replay ${e.job.replays ?? 1} of at most ${maxReplays})`] : []),
    `Payload:   ${e.job ? JSON.stringify(e.job.payload ?? null) : e.data.slice(0, 2_000)}`,
    'Headers:',
    ...Object.entries(e.headers).map(([k, v]) => `  ${k}: ${v.join(', ')}`),
    '',
    `Replay it: tps dlq replay ${e.seq}     Remove it: tps dlq purge ${e.seq}`,
  ];
  return lines.join('\n');
}

export function formatReplay(o: ReplayOutcome): string {
  const what = `${o.seq} (${o.type}, ${o.code}, job ${o.jobId})`;
  switch (o.outcome) {
    case 'replayed': return `replayed      ${what} as job ${o.newJobId}`;
    case 'would_replay': return `would replay  ${what} as job ${o.newJobId}`;
    case 'skipped': return `skipped       ${what}: ${o.why}`;
    case 'failed': return `FAILED        ${what}: ${o.why}`;
  }
}

export function formatPurge(o: PurgeOutcome): string {
  const what = `${o.seq} (${o.type}, ${o.code}, job ${o.jobId})`;
  if (o.outcome === 'skipped') return `skipped      ${what}: ${o.why}`;
  return `${o.outcome === 'purged' ? 'purged     ' : 'would purge'}  ${what}`;
}

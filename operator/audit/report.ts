// How an audit reads to people (set arithmetic with a few ids of each bad set) and to machines.
import type { AuditResult } from './audit.ts';

const shown = 10;

export function auditJson(ledger: string, ledgerLines: number, r: AuditResult) {
  return { ledger, ledgerLines, ...r, ok: r.lost === 0 };
}

export function formatAudit(r: AuditResult): string {
  const row = (name: string, count: number | string, ids: readonly string[] = [], note?: (id: string) => string) =>
    `  ${name.padEnd(34)} ${String(count).padStart(8)}${ids.length ? `   ${examples(ids, note)}` : ''}`;
  const unknown = new Set(r.unknownIds);
  const lines = [
    '',
    row('accepted (A)', r.accepted),
    row('completed (C)', r.completed),
    row('dead-lettered (D)', r.deadLettered, r.deadLetteredIds),

    row('in flight (F)', r.inFlight, r.inFlightIds),
    row('lost (L = A - C - D - F)', r.lost, r.lostIds, (id) => `${id} (${unknown.has(id) ? 'unknown' : 'stuck'})`),
    ...(r.replayed > 0 ? [row('replayed from DLQ (in C, D, F, L)', r.replayed)] : []),
    row('duplicates seen by service-c', r.duplicates ?? 'unknown', r.duplicateIds),
    '',
  ];
  if (r.duplicates === null) lines.push(`  duplicates not counted: ${r.duplicatesSource}`);
  if (r.lost > 0) lines.push(`  LOST: ${r.lost} accepted job(s) can no longer finish (${r.unknownIds.length} unknown to tps_jobs, ${r.lost - r.unknownIds.length} stuck with an empty queue).`);
  else if (r.inFlight > 0) lines.push(`  Nothing lost so far, but ${r.inFlight} job(s) are still in flight: not proved yet. Run again with a longer --wait.`);
  else lines.push('  OK: every accepted job completed or was dead-lettered; none lost.');
  if (r.deadLettered > 0) lines.push('  Dead-lettered jobs are accounted for, not lost: see `tps dlq list`.');
  return lines.join('\n');
}

function examples(ids: readonly string[], note: (id: string) => string = (id) => id): string {
  return `e.g. ${ids.slice(0, shown).map(note).join(', ')}${ids.length > shown ? `, ... (${ids.length - shown} more)` : ''}`;
}

// `tps status` as text: the handbook's dashboard in a terminal, each value marked against the
// handbook's normal range (ok / watch / bad), fast and slow pools side by side.
import type { Finding } from './diagnose.ts';
import { busyMark, circuitMark, dlqMark, errorMark, flowMark, latencyMark, ms, pct, queueMark, roleMark, type Mark } from './marks.ts';
import type { Snapshot } from './snapshot.ts';

export type Paint = (mark: Mark, text: string) => string;

export function painter(color: boolean): Paint {
  const codes: Record<Mark, string> = { ok: '32', watch: '33', bad: '31', none: '2' };
  return (mark, text) => (color ? `\x1b[${codes[mark]}m${text}\x1b[0m` : text);
}

const glyph: Record<Mark, string> = { ok: '✓', watch: '!', bad: '✗', none: '·' };

function row(paint: Paint, label: string, cells: Array<[Mark, string]>): string {
  return `${label.padEnd(22)}${cells.map(([m, t]) => `${m === 'none' ? ' ' : paint(m, glyph[m])} ${t.padEnd(42)}`).join('')}`.trimEnd();
}

const rates = (perSec: Record<string, number>, name: (k: string) => string = (k) => k) =>
  Object.entries(perSec).filter(([, v]) => v > 0).map(([k, v]) => `${name(k)} ${v.toFixed(1)}/s`).join(', ');

/** One line for every refusal, whichever pool it was for or none yet (the metric's definition). */
function rejectedLine(r: Snapshot['rejected'], paint: Paint): string {
  if (r.perSec === 0) return `${'Rejected'.padEnd(22)}${paint('ok', glyph.ok)} none`;
  const pools = rates(r.byPool, (pool) => (pool === 'unknown' ? 'before the pool was known' : pool));
  return `${'Rejected'.padEnd(22)}${paint('watch', glyph.watch)} ${r.perSec.toFixed(1)}/s: ${rates(r.byReason)} (${pools})`;
}

/** `warnings` come first: a stack anyone may write to is worth knowing before any figure. */
export function renderStatus(s: Snapshot, paint: Paint, warnings: readonly string[] = []): string {
  const pools = s.pools;
  const lines = [
    `TPS Lab status  ${s.at.replace('T', ' ').slice(0, 19)}Z  (rates over ${s.seconds.toFixed(1)} s)`,
    '',
    ...warnings.flatMap((w) => [`${paint('bad', glyph.bad)} ${w}`, '']),
    'Circuit breakers',
    ...(s.circuits.length ? s.circuits.map((c) => `  ${paint(circuitMark(c.state), '●')} ${c.name.padEnd(26)} ${c.state.replace('_', '-')}${c.opensInInterval ? ` (opened ${c.opensInInterval}x)` : ''}`) : ['  (no breaker reports yet)']),
    '',
    row(paint, '', pools.map((p) => ['none', `${p.pool} pool`])),
    row(paint, 'Queue depth', pools.map((p) => [queueMark(p), `${p.queue.depth}/${p.queue.capacity} (${pct(p.queue.fill)})`])),
    row(paint, '  waiting / in flight', pools.map((p) => ['none', `${p.queue.pending} / ${p.queue.inflight}`])),
    row(paint, 'Workers busy', pools.map((p) => [busyMark(p), `${p.workers.busy}/${p.workers.slots} slots (${pct(p.workers.utilization)}), ${p.workers.instances} worker${p.workers.instances === 1 ? '' : 's'}`])),
    row(paint, 'Error rate', pools.map((p) => [errorMark(p), `${pct(p.errorRate)} of ${p.attemptsPerSec.toFixed(1)} attempts/s`])),
    row(paint, 'Latency p50/p90/p99', pools.map((p) => [latencyMark(p.processing), `${ms(p.processing.p50)} / ${ms(p.processing.p90)} / ${ms(p.processing.p99)} ms`])),
    row(paint, '  end to end p50/p99', pools.map((p) => ['none', `${ms(p.endToEnd.p50)} / ${ms(p.endToEnd.p99)} ms`])),
    row(paint, 'Throughput / incoming', pools.map((p) => [flowMark(p), `${p.completedPerSec.toFixed(1)}/s done, ${p.incomingPerSec.toFixed(1)}/s in`])),
    rejectedLine(s.rejected, paint),
    row(paint, 'Dead-letter queue', pools.map((p) => [dlqMark(p), `${p.dlq.depth}/${p.dlq.capacity} (+${p.dlq.addedPerSec.toFixed(1)}/s)`])),
    ...(s.autoscaler.present ? [row(paint, 'Autoscaler', pools.map((p) => [p.autoscaler.bottleneck ? 'watch' : 'ok', `${s.autoscaler.enabled ? 'on' : 'OFF (manual)'}, wants ${p.autoscaler.desiredSlots ?? '-'} slots${p.autoscaler.bottleneck ? ', bottleneck downstream' : ''}`]))] : []),
    '',
    'Resources',
    ...s.roles.map((r) => `  ${paint(roleMark(r), r.up ? '●' : '✗')} ${r.role.padEnd(13)} ${r.up ? `CPU ${r.cpuPercent.toFixed(0).padStart(3)}%  memory ${r.memoryMb.toFixed(0).padStart(4)} MB` : `down (${r.error ?? 'no answer'})`}`),
    '',
    `Chaos faults: ${s.faults.length ? s.faults.map((f) => `${f.fault} on ${f.target}`).join(', ') : 'none'}`,
    ...s.canaries.map((k) => `Canary: ${k.target} ${k.version} ${k.weight > 0 ? `takes ${k.weight} % of the calls` : 'takes no calls (promoted or rolled back)'}; ${k.tracks.map((t) => `${t.track} ${t.version} ${t.callsPerSec.toFixed(1)}/s, ${pct(t.errorRate)} failed, p99 ${ms(t.p99)} ms`).join('; ')} (tps canary status)`),
    `Live parameters: ${s.parameters.length ? `${s.parameters.map((p) => `${p.name}=${p.values.join('|')}`).join(', ')} (tps config set; tps config get for who and why)` : 'start-up values'}`,
  ];
  return lines.join('\n');
}

export function renderFindings(findings: Finding[], paint: Paint): string {
  if (findings.length === 0) return `${paint('ok', '✓')} Nothing abnormal: every value is in the handbook's normal range.`;
  const mark = (f: Finding): Mark => (f.severity === 'critical' || f.severity === 'high' ? 'bad' : f.severity === 'medium' ? 'watch' : 'none');
  return findings.map((f) => [
    `${paint(mark(f), f.severity.toUpperCase().padEnd(8))} ${f.subject}: ${f.what}`,
    `         why:  ${f.why}`,
    ...f.next.map((n) => `         next: ${n}`),
  ].join('\n')).join('\n\n');
}

// How a timeline reads on the terminal: `[00:30] set service-c latency ms=5000 (until 02:30)`.
// With --speed, the scenario's own time follows the run time: `[01:00 | 1:00:00]`.
import type { LoadHint } from './schema.ts';
import type { Plan, PlannedEvent } from './plan.ts';

export function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** "1h", "2m30s", "45s", "1.5s" for humans. */
export function span(ms: number): string {
  if (ms < 10_000 && ms % 1000 !== 0) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const parts = [[Math.floor(total / 3600), 'h'], [Math.floor((total % 3600) / 60), 'm'], [total % 60, 's']] as const;
  return parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`).join('') || '0s';
}

const params = (p: Record<string, unknown>) => Object.entries(p).map(([k, v]) => ` ${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('');

export function stamp(plan: Plan, atMs: number, sourceAtMs: number): string {
  return plan.speed === 1 ? `[${clock(atMs)}]` : `[${clock(atMs)} | ${clock(sourceAtMs)}]`;
}

export function describe(event: PlannedEvent): string {
  switch (event.kind) {
    case 'set': return `set ${event.request.target} ${event.request.fault}${params(event.request.params)} (until ${clock(event.untilMs)})`;
    case 'clear': return `clear ${event.target}${event.fault ? ` ${event.fault}` : ' (every fault)'}${event.reason === 'ends' ? ' (its duration is over)' : ''}`;
    case 'observe': return `observe: ${event.text}`;
    case 'expect': return `expect: ${event.text}`;
  }
}

/** The lines printed for one event: its label (if any) as a heading, then what happens. */
export function eventLines(plan: Plan, event: PlannedEvent): string[] {
  const at = stamp(plan, event.atMs, event.sourceAtMs);
  return [...(event.label && event.kind !== 'clear' ? [`${at} == ${event.label}`] : []), `${at} ${describe(event)}`];
}

export function loadLine(load: LoadHint | undefined): string {
  if (!load) return 'Load: none needed (an idle system shows it).';
  const parts = [load.rate ? `${load.rate} jobs/s` : undefined, load.mix ? `mix ${load.mix}` : undefined].filter(Boolean);
  const command = load.rate ? ` Start it yourself, e.g. \`tps load --rate ${load.rate}${load.mix ? ` --mix ${load.mix}` : ''} --duration <scenario length>\`.` : '';
  return `Load: ${parts.join(', ') || 'see note'}${load.note ? ` (${load.note})` : ''}.${command}`;
}

export function planHeader(plan: Plan): string[] {
  const { scenario } = plan;
  return [
    `Scenario ${scenario.name}: ${scenario.description}`,
    `Reference: ${scenario.reference}`,
    loadLine(scenario.load),
    `Length: ${span(plan.totalMs)}${plan.speed === 1 ? '' : ` at --speed ${plan.speed}`}.`,
  ];
}

export const planEvents = (plan: Plan): string[] => plan.events.flatMap((e) => eventLines(plan, e));

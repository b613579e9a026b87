// How `tps chaos` writes faults and durations for people.
import { faultCatalogue, faultNames, isOneShot, type ActiveFault } from '#platform/chaos/catalogue.ts';
import { paramsText, targetsOf } from '#chaos/describe.ts';
import { table } from './session.ts';

/** "45s", "1m30s", "2h", "2h30m"; whole days as "7d" (`tps events --since`). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s / 60}m`;
  const m = Math.round(s / 60);
  if (m % 1440 === 0) return `${m / 1440}d`;
  return m % 60 ? `${Math.floor(m / 60)}h${m % 60}m` : `${m / 60}h`;
}

const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8);

export function paramsOf(f: ActiveFault): string {
  return Object.entries(f.params).map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

/** `service-a: error_rate ratio=1 status=500 on until 18:52:03 (10m)`; a one-shot fault says it
 * acts once: "on until" read as if a crashed worker would crash again for 10 minutes. */
export function confirmation(f: ActiveFault): string {
  const params = paramsOf(f);
  const until = `${clock(f.expiresAt)} (${formatDuration(Date.parse(f.expiresAt) - Date.parse(f.setAt))})`;
  if (isOneShot(f.fault)) return `${f.target}: ${f.fault}${params ? ` ${params}` : ''} once, now (its restart is left alone; listed until ${until})`;
  return `${f.target}: ${f.fault}${params ? ` ${params}` : ''} on until ${until}`;
}

export function faultTable(faults: readonly ActiveFault[], now = Date.now()): string {
  return table([
    ['TARGET', 'FAULT', 'PARAMS', 'UNTIL', 'LEFT', 'BY'],
    ...faults.map((f) => [f.target, isOneShot(f.fault) ? `${f.fault} (once, at ${clock(f.setAt)})` : f.fault, paramsOf(f) || '-', clock(f.expiresAt), formatDuration(Date.parse(f.expiresAt) - now), f.by]),
  ]);
}

export function catalogueText(): string {
  return faultNames.map((name) => {
    const def = faultCatalogue[name];
    return [
      `${name} (${def.kind})`,
      `  ${def.description}`,
      `  params:  ${paramsText(name)}`,
      `  targets: ${targetsOf(name).join(', ')}`,
    ].join('\n');
  }).join('\n\n');
}

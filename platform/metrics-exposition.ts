// What GET /metrics answers: OpenMetrics to a scraper that asks for it (Prometheus does, and only
// OpenMetrics carries the trace-id exemplars), the Prometheus text format to everyone else (curl,
// `promtool check metrics`, `tps status`). Both come from one OpenMetrics rendering, so they
// cannot disagree: prom-client renders a registry in one format only, and renaming its counters
// for OpenMetrics is permanent.
import type { MetricsRegistry } from './metrics.ts';

export const prometheusTextType = 'text/plain; version=0.0.4; charset=utf-8';

export type Exposition = { contentType: string; text: string };

/** Whether an Accept header asks for OpenMetrics (Prometheus' scrape header lists it first). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/i.test(accept ?? '');
}

export async function exposition(registry: MetricsRegistry, accept: string | undefined): Promise<Exposition> {
  const text = await registry.metrics();
  return wantsOpenMetrics(accept) ? { contentType: registry.contentType, text } : { contentType: prometheusTextType, text: toPrometheusText(text) };
}

/** Where a sample line's label set ends (quotes and escapes inside values skipped), or -1. */
function labelsEnd(line: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '}') return i;
  }
  return -1;
}

/** A sample line without its exemplar (` # {trace_id="..."} value timestamp`): text format has none. */
function withoutExemplar(line: string): string {
  const open = line.indexOf('{');
  const space = line.indexOf(' ');
  const nameEnd = open >= 0 && (space < 0 || open < space) ? labelsEnd(line, open) + 1 : space;
  if (nameEnd <= 0) return line;
  const value = line.slice(nameEnd).trimStart().split(' ')[0] ?? '';
  return `${line.slice(0, nameEnd)} ${value}`;
}

/**
 * OpenMetrics -> Prometheus text 0.0.4: a counter family is named with its `_total` (OpenMetrics
 * names the family without it), exemplars and `# EOF` go. Everything else is the same in both.
 */
export function toPrometheusText(openMetrics: string): string {
  const lines = openMetrics.split('\n');
  const counters = new Set(lines.flatMap((l) => /^# TYPE (\S+) counter$/.exec(l)?.[1] ?? []));
  const out: string[] = [];
  for (const line of lines) {
    if (line === '# EOF' || line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      out.push(`# ${kind} ${counters.has(name) ? `${name}_total` : name}${rest}`);
    } else if (!line.startsWith('#')) {
      out.push(withoutExemplar(line));
    }
  }
  return `${out.join('\n')}\n`;
}

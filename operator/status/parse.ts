// Reads Prometheus / OpenMetrics exposition text into samples (comments dropped), and the
// exemplars (trace ids) OpenMetrics attaches to histogram buckets.
export type Sample = { name: string; labels: Readonly<Record<string, string>>; value: number };

const line = /^([a-zA-Z_:][\w:]*)(?:\{(.*?)\})?\s+(\S+)/;
const label = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const m = line.exec(raw);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const value = Number(m[3]);
    if (!Number.isNaN(value)) samples.push({ name: m[1] as string, labels, value });
  }
  return samples;
}

/** A histogram observation's trace, as OpenMetrics carries it:
 * `name_bucket{...,le="0.1"} 3 # {trace_id="4bf9..."} 0.083 1733240000.123`. */
export type Exemplar = { name: string; labels: Readonly<Record<string, string>>; traceId: string; value: number; at?: number };

const exemplarLine = /^([a-zA-Z_:][\w:]*)(?:\{(.*?)\})?\s+\S+\s+#\s+\{(.*?)\}\s+(\S+)(?:\s+(\S+))?/;

export function parseExemplars(text: string): Exemplar[] {
  const found: Exemplar[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.includes(' # {')) continue;
    const m = exemplarLine.exec(raw);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const traceId = /trace_id="([0-9a-fA-F]+)"/.exec(m[3] ?? '')?.[1];
    const value = Number(m[4]);
    if (!traceId || Number.isNaN(value)) continue;
    const at = m[5] === undefined ? undefined : Number(m[5]);
    found.push({ name: m[1] as string, labels, traceId, value, ...(at !== undefined && !Number.isNaN(at) ? { at } : {}) });
  }
  return found;
}

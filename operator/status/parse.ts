// Reads Prometheus / OpenMetrics exposition text into samples (exemplars and comments dropped).
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

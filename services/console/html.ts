// Building blocks of the console's server-rendered HTML: escaping (every value that came from a
// process is text, never markup) and small SVG line charts with the handbook's bands drawn in.

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content or a quoted attribute. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

/** A template tag whose interpolations are escaped unless they are already `Html`. */
export class Html {
  readonly text: string;
  constructor(text: string) { this.text = text; }
  toString(): string { return this.text; }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    const part = Array.isArray(value) ? value.map((v) => (v instanceof Html ? v.text : esc(v))).join('') : value instanceof Html ? value.text : value === undefined || value === false || value === null ? '' : esc(value);
    out += part + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export type Series = { name: string; values: readonly number[]; cls: string };
export type Band = { from: number; to: number; cls: string; label: string };

/**
 * A line chart as inline SVG: the series over the last points, optional horizontal bands (the
 * handbook's normal ranges) and a ceiling line (a queue's maximum). Scales to its box.
 */
export function lineChart(opts: { series: readonly Series[]; max?: number; bands?: readonly Band[]; ceiling?: { value: number; label: string }; label: string }): Html {
  const width = 300;
  const height = 80;
  const points = Math.max(2, ...opts.series.map((s) => s.values.length));
  const top = Math.max(opts.max ?? 0, opts.ceiling?.value ?? 0, ...opts.series.flatMap((s) => s.values), 1e-9);
  const x = (i: number) => (i / (points - 1)) * width;
  const y = (v: number) => height - (Math.min(v, top) / top) * height;
  const bands = (opts.bands ?? []).map((b) => html`<rect class="${b.cls}" x="0" width="${width}" y="${y(b.to).toFixed(1)}" height="${Math.max(0.5, y(b.from) - y(b.to)).toFixed(1)}"><title>${b.label}</title></rect>`);
  const ceiling = opts.ceiling ? html`<line class="ceiling" x1="0" x2="${width}" y1="${y(opts.ceiling.value).toFixed(1)}" y2="${y(opts.ceiling.value).toFixed(1)}"><title>${opts.ceiling.label}</title></line>` : '';
  const lines = opts.series.map((s) => {
    const offset = points - s.values.length;
    const d = s.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return html`<path class="${s.cls}" d="${d}"><title>${s.name}</title></path>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${opts.label}">${bands}${ceiling}${lines}</svg>`;
}

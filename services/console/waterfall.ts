// A trace as a waterfall: one row per span in call order (a parent above its children, siblings by
// start time), indented by depth, its bar placed on the trace's own time axis, with the span's
// service, operation and duration; a failed span is red, and a hop that called through a circuit
// breaker says the breaker's state at that moment. Drawn as SVG attributes (the page's
// Content-Security-Policy allows no inline style).
import { breakerStates, spanAttributes, type BreakerState } from '#platform/breaker.ts';
import { statusCode, type ReceivedSpan } from '#platform/telemetry/otlp-json.ts';
import { html, type Html } from './html.ts';

export type WaterfallRow = { span: ReceivedSpan; depth: number; offsetMs: number };

/** The spans in call order, each with its depth and its start after the trace's first span. */
export function waterfallRows(spans: readonly ReceivedSpan[]): WaterfallRow[] {
  if (spans.length === 0) return [];
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  const roots: ReceivedSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId)?.push(s);
    } else roots.push(s); // the root, or a span whose parent was not received
  }
  const t0 = Math.min(...spans.map((s) => s.startMs));
  const byStart = (a: ReceivedSpan, b: ReceivedSpan) => a.startMs - b.startMs;
  const rows: WaterfallRow[] = [];
  const visit = (span: ReceivedSpan, depth: number) => {
    rows.push({ span, depth, offsetMs: span.startMs - t0 });
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child, depth + 1);
  };
  for (const root of roots.sort(byStart)) visit(root, 0);
  return rows;
}

/** The breaker this span's hop called through, and its state then (platform/breaker.ts sets both). */
export function breakerOf(span: ReceivedSpan): { circuit: string; state: BreakerState } | undefined {
  const circuit = span.attributes[spanAttributes.circuit];
  const state = span.attributes[spanAttributes.state];
  return typeof circuit === 'string' && typeof state === 'string' && state in breakerStates ? { circuit, state: state as BreakerState } : undefined;
}

const ms = (value: number) => (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`);
const breakerMark: Record<BreakerState, string> = { closed: 'mark-ok', half_open: 'mark-watch', open: 'mark-bad' };

export function renderWaterfall(spans: readonly ReceivedSpan[]): Html {
  const rows = waterfallRows(spans);
  if (rows.length === 0) return html`<p>No spans.</p>`;
  const total = Math.max(...rows.map((r) => r.offsetMs + r.span.durationMs), 0.001);
  const label = 380;
  const width = 520;
  const rowHeight = 22;
  const x = (t: number) => label + (t / total) * width;
  return html`<svg class="waterfall" data-testid="waterfall" viewBox="0 0 ${label + width + 150} ${rows.length * rowHeight + 24}" role="img" aria-label="the trace's spans over ${ms(total)}">
<text x="${label}" y="14" class="axis">0</text><text x="${label + width}" y="14" class="axis" text-anchor="end">${ms(total)}</text>
${rows.map((r, i) => {
    const y = 20 + i * rowHeight;
    const failed = r.span.status.code === statusCode.error;
    const breaker = breakerOf(r.span);
    const barWidth = Math.max(1, (r.span.durationMs / total) * width);
    return html`<g class="span-row" data-service="${r.span.service}" data-span="${r.span.name}" ${breaker ? html`data-breaker="${breaker.circuit} ${breaker.state}"` : ''}>
<title>${r.span.service}: ${r.span.name}, ${ms(r.span.durationMs)}${failed ? `, failed: ${r.span.status.message ?? ''}` : ''}${breaker ? `; breaker ${breaker.circuit} ${breaker.state.replace('_', '-')}` : ''}</title>
<text x="${4 + r.depth * 12}" y="${y + 15}" class="span-label"><tspan class="span-service">${r.span.service}</tspan> ${r.span.name}</text>
<rect x="${x(r.offsetMs).toFixed(1)}" y="${y + 4}" width="${barWidth.toFixed(1)}" height="${rowHeight - 8}" class="${failed ? 'bar-error' : 'bar-ok'}"></rect>
<text x="${(x(r.offsetMs) + barWidth + 4).toFixed(1)}" y="${y + 15}" class="span-duration">${ms(r.span.durationMs)}${breaker ? html` <tspan class="${breakerMark[breaker.state]}">● ${breaker.state.replace('_', '-')}</tspan>` : ''}</text>
</g>`;
  })}
</svg>`;
}

// The console renders on the server whatever the roles report (breaker names, fault parameters,
// errors): every such value must reach the page as text, never as markup.
import { expect, it } from 'vitest';
import { html, lineChart } from '#services/console/html.ts';
import { renderDecisions } from '#services/console/decisions.ts';
import { renderQueueDetail } from '#services/console/queue-detail.ts';
import { faultWhen } from '#services/console/board.ts';

it('escapes every interpolated value, and keeps fragments built by html`` as they are', () => {
  const name = '<img src=x onerror="alert(1)">';
  const inner = html`<b>${name}</b>`;
  const page = html`<p title="${name}">${inner} ${[name, inner]}</p>`.text;
  expect(page).not.toContain('<img');
  expect(page).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  expect(page.match(/<b>/g)).toHaveLength(2);
});

it('draws a line chart within its box, the band and the ceiling at their values', () => {
  const svg = lineChart({ label: 'queue', series: [{ name: 'depth', cls: 'd', values: [0, 50, 100] }], ceiling: { value: 100, label: 'max' }, bands: [{ from: 40, to: 60, cls: 'b', label: 'healthy' }] }).text;
  expect(svg).toContain('d="M0.0,80.0 L150.0,40.0 L300.0,0.0"');
  expect(svg).toMatch(/<rect class="b" x="0" width="300" y="32\.0" height="16\.0">/);
  expect(svg).toMatch(/<line class="ceiling" x1="0" x2="300" y1="0\.0" y2="0\.0">/);
});

it('says how long the oldest message has waited and marks a consumer whose every delivery is out', () => {
  const text = (detail: Parameters<typeof renderQueueDetail>[1]) => renderQueueDetail('slow', detail).text.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
  expect(text({ oldestAgeMs: 1_500, ackPending: 64, maxAckPending: 64, pullsWaiting: 0, redelivered: 3 })).toBe('oldest waiting 1.5 s · ack pending 64/64 · 0 pulls waiting · 3 redelivered');
  expect(renderQueueDetail('slow', { oldestAgeMs: 1_500, ackPending: 64, maxAckPending: 64, pullsWaiting: 0, redelivered: 0 }).text).toContain('class="mark-watch"');
  expect(text({ ackPending: 0, maxAckPending: 64, pullsWaiting: 1, redelivered: 0 })).toBe('oldest none: empty · ack pending 0/64 · 1 pull waiting');
  expect(text({ oldestAgeMs: 600_000, ackPending: 1, maxAckPending: 0, pullsWaiting: 2, redelivered: 0 })).toBe('oldest waiting 10 min · ack pending 1/∞ · 2 pulls waiting');
});

it('says per pool what the autoscaler last decided, when and why, and when it decided nothing', () => {
  const decision = (pool: 'fast' | 'slow', at: string, direction: 'up' | 'down' | 'hold', from: number, to: number) => ({
    kind: 'autoscaler.decision' as const, at, instance: 'a-1', pool, direction, from, to, reason: direction === 'hold' ? 'bottleneck' : 'utilization', detail: 'what it saw',
    signals: { workers: 1, utilization: 0.9, lag: 0, throughput: 10 },
  });
  const text = renderDecisions(['fast', 'slow'], [
    decision('fast', '2026-12-05T10:00:00.000Z', 'up', 8, 12), decision('fast', '2026-12-05T10:01:30.000Z', 'hold', 12, 12),
  ]).text.replace(/\s+/g, ' ');
  expect(text).toContain('fast: holding at 12 slots at 10:01:30 UTC (bottleneck): what it saw');
  expect(text).toContain('slow: no decision in the last hour');
  expect(renderDecisions(['fast'], [decision('fast', '2026-12-05T10:00:00.000Z', 'up', 8, 12)]).text).toContain('fast: 8 -&gt; 12 slots at 10:00:00 UTC (utilization): what it saw');
});

it('gives a fault its time left, and a one-shot fault the moment it acted (a crash does not go on)', () => {
  const fault = (name: 'crash' | 'latency') => ({ target: 'worker-fast' as const, fault: name, params: {}, setAt: '2026-12-07T10:36:12.000Z', expiresAt: '2026-12-07T10:46:12.000Z', by: 'tps (ada@lab)' });
  const now = Date.parse('2026-12-07T10:37:02.000Z');
  expect(faultWhen(fault('latency'), now)).toBe('9 min 10 s left');
  expect(faultWhen(fault('crash'), now)).toBe('once, at 10:36:12 UTC');
});

// The Andon board: the handbook's seven panels (section 2.2) in their visual form, plus refusals,
// the DLQ, the autoscaler and active chaos, rendered on the server as HTML fragments, one per
// panel. The page swaps a fragment when the sampler has a new snapshot. Each value carries the mark
// `tps status` gives it (operator/status/marks.ts), as its colour and as data-mark for tests and
// for people who do not see colour.
import {
  bands, busyMark, circuitMark, dlqMark, errorMark, flowMark, latencyMark, ms, pct, queueMark, rejectedMark, roleMark, type Mark,
} from '#operator/status/marks.ts';
import type { PoolView, Snapshot } from '#operator/status/snapshot.ts';
import { faultCatalogue, faultNames, isOneShot, isSystemFault, processTargets, type ActiveFault } from '#platform/chaos/catalogue.ts';
import { html, lineChart, type Html } from './html.ts';
import type { BoardPoint } from '#operator/status/history.ts';
import { renderQueueDetail, type QueueDetail } from './queue-detail.ts';
import { renderDecisions } from './decisions.ts';
import type { DecisionEvent } from '#services/autoscaler/events.ts';

export const panelIds = ['breakers', 'queues', 'workers', 'errors', 'latency', 'throughput', 'resources', 'flow'] as const;
export type PanelId = (typeof panelIds)[number];

const word: Record<Mark, string> = { ok: 'normal', watch: 'watch', bad: 'act', none: 'no data' };

function value(testid: string, mark: Mark, text: string): Html {
  return html`<span class="value mark-${mark}" data-testid="${testid}" data-mark="${mark}" title="${word[mark]}">${text}</span>`;
}

const perPool = (s: Snapshot, render: (p: PoolView) => Html) => s.pools.map((p) => html`<div class="pool"><h3>${p.pool}</h3>${render(p)}</div>`);
const seriesOf = (history: readonly BoardPoint[], pool: string, pick: (v: BoardPoint['pools'][string]) => number) =>
  history.map((h) => h.pools[pool]).filter((v) => v !== undefined).map(pick);

export type BoardInput = {
  snapshot: Snapshot; history: readonly BoardPoint[]; faults: readonly ActiveFault[]; now: number;
  queues?: Readonly<Record<string, QueueDetail>>; decisions?: readonly DecisionEvent[];
};

export function renderPanels(input: BoardInput): Record<PanelId, Html> {
  const { snapshot: s, history } = input;
  return {
    breakers: breakers(s),
    queues: html`${perPool(s, (p) => html`
      <p>${value(`queue-depth-${p.pool}`, queueMark(p), `${p.queue.depth}/${p.queue.capacity} (${pct(p.queue.fill)})`)}
         <small>waiting ${p.queue.pending}, in flight ${p.queue.inflight}</small><br>${renderQueueDetail(p.pool, input.queues?.[p.pool])}</p>
      ${lineChart({
        label: `${p.pool} queue depth against its maximum`,
        series: [{ name: 'depth', cls: 'line-depth', values: seriesOf(history, p.pool, (v) => v.depth) }],
        ceiling: { value: p.queue.capacity, label: `maximum ${p.queue.capacity}` },
        bands: p.queue.capacity ? [{ from: bands.queueHealthy.from * p.queue.capacity, to: bands.queueHealthy.to * p.queue.capacity, cls: 'band-healthy', label: '40-60 %: healthy under load' }] : [],
      })}`)}`,
    workers: html`${perPool(s, (p) => html`
      <p>${value(`workers-busy-${p.pool}`, busyMark(p), `${p.workers.busy}/${p.workers.slots} slots (${pct(p.workers.utilization)})`)}
         <small>${p.workers.instances} worker${p.workers.instances === 1 ? '' : 's'}</small>
         <span class="actions admin-only"><label>slots per worker <input type="number" min="0" step="1" name="slots-${p.pool}" value="${p.workers.instances ? Math.round(p.workers.slots / p.workers.instances) : ''}"></label>
         <button type="button" data-action="scale" data-name="${p.pool}">Set</button></span></p>
      <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="meter" aria-label="${p.pool} slots busy" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(p.workers.utilization * 100)}"><rect class="track" width="100" height="6"></rect><rect class="fill mark-${busyMark(p)}" width="${Math.min(100, p.workers.utilization * 100).toFixed(1)}" height="6"></rect></svg>`)}`,
    errors: html`${perPool(s, (p) => html`
      <p>${value(`error-rate-${p.pool}`, errorMark(p), pct(p.errorRate))} <small>of ${p.attemptsPerSec.toFixed(1)} attempts/s; watch above 0.1 %, act above 1 %</small></p>
      ${lineChart({
        label: `${p.pool} error rate`, max: bands.errorBad * 2,
        series: [{ name: 'error rate', cls: 'line-errors', values: seriesOf(history, p.pool, (v) => v.errorRate) }],
        bands: [{ from: bands.errorWatch, to: bands.errorBad, cls: 'band-watch', label: '0.1-1 %: watch' }, { from: bands.errorBad, to: 1, cls: 'band-bad', label: 'above 1 %: act' }],
      })}`)}`,
    latency: html`${perPool(s, (p) => html`
      <p>${value(`latency-${p.pool}`, latencyMark(p.processing), `${ms(p.processing.p50)} / ${ms(p.processing.p90)} / ${ms(p.processing.p99)} ms`)}
         <small>p50 / p90 / p99; ${p.processing.count === 0 ? 'no jobs in the interval' : p.processing.p99 > bands.tailRatio * p.processing.p50 ? 'p99 above 10x p50: a long tail' : 'p99 < 10x p50'}</small></p>
      ${lineChart({
        label: `${p.pool} latency percentiles`,
        series: [
          { name: 'p50', cls: 'line-p50', values: seriesOf(history, p.pool, (v) => v.p50) },
          { name: 'p90', cls: 'line-p90', values: seriesOf(history, p.pool, (v) => v.p90) },
          { name: 'p99', cls: 'line-p99', values: seriesOf(history, p.pool, (v) => v.p99) },
        ],
      })}`)}`,
    throughput: html`${perPool(s, (p) => html`
      <p>${value(`throughput-${p.pool}`, flowMark(p), `${p.completedPerSec.toFixed(1)}/s done, ${p.incomingPerSec.toFixed(1)}/s in`)}</p>
      ${lineChart({
        label: `${p.pool} throughput against incoming`,
        series: [
          { name: 'incoming', cls: 'line-incoming', values: seriesOf(history, p.pool, (v) => v.incomingPerSec) },
          { name: 'completed', cls: 'line-completed', values: seriesOf(history, p.pool, (v) => v.completedPerSec) },
        ],
      })}`)}`,
    resources: html`<table><thead><tr><th>role</th><th>CPU</th><th>memory</th></tr></thead><tbody>${s.roles.map((r) => html`
      <tr><td>${r.role}</td>${r.up
        ? html`<td>${value(`cpu-${r.role}`, roleMark(r), `${r.cpuPercent.toFixed(0)} %`)}</td><td>${r.memoryMb.toFixed(0)} MB</td>`
        : html`<td colspan="2">${value(`cpu-${r.role}`, 'bad', `down (${r.error ?? 'no answer'})`)}</td>`}</tr>`)}</tbody></table>
      <p><small>Disk: the roles keep nothing on disk; NATS' store is on its monitor page.</small></p>`,
    flow: flow(input),
  };
}

function breakers(s: Snapshot): Html {
  if (s.circuits.length === 0) return html`<p><small>No breaker reports yet (a breaker appears after its first call).</small></p>`;
  return html`<ul class="lights">${s.circuits.map((c) => html`
    <li data-testid="breaker-${c.name}" data-state="${c.state}">
      <span class="light mark-${circuitMark(c.state)}" aria-hidden="true"></span>
      <span class="name">${c.name}</span> ${value(`breaker-state-${c.name}`, circuitMark(c.state), c.state.replace('_', '-'))}
      ${c.opensInInterval ? html`<small>opened ${c.opensInInterval}x</small>` : ''}
      <span class="actions admin-only">
        <button type="button" data-action="breaker-open" data-name="${c.name}">Force open</button>
        <button type="button" data-action="breaker-auto" data-name="${c.name}">Back to automatic</button>
      </span>
    </li>`)}</ul>`;
}

/** How long a fault has left; a one-shot fault (a crash), when it acted: it does not go on acting. */
export function faultWhen(f: ActiveFault, now: number): string {
  if (isOneShot(f.fault)) return `once, at ${f.setAt.slice(11, 19)} UTC`;
  const seconds = Math.max(0, Math.round((Date.parse(f.expiresAt) - now) / 1000));
  return `${seconds >= 3600 ? `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min` : seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`} left`;
}

/** Refusals, the DLQ, the autoscaler and chaos: what moves jobs besides the workers. */
function flow({ snapshot: s, faults, now, decisions }: BoardInput): Html {
  const reasons = Object.entries(s.rejected.byReason).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(1)}/s`).join(', ');
  return html`<dl>
    <dt>Rejected</dt><dd>${value('rejected', rejectedMark(s.rejected), s.rejected.perSec === 0 ? 'none' : `${s.rejected.perSec.toFixed(1)}/s: ${reasons}`)}</dd>
    ${s.pools.map((p) => html`<dt>Dead-letter queue, ${p.pool}</dt><dd>${value(`dlq-${p.pool}`, dlqMark(p), `${p.dlq.depth}/${p.dlq.capacity} (+${p.dlq.addedPerSec.toFixed(1)}/s)`)}</dd>`)}
    <dt>Autoscaler</dt><dd>${s.autoscaler.present
      ? html`${value('autoscaler', s.autoscaler.enabled ? 'ok' : 'watch', s.autoscaler.enabled ? 'on' : 'OFF (manual control)')}
        <span class="actions admin-only"><button type="button" data-action="${s.autoscaler.enabled ? 'autoscaler-off' : 'autoscaler-on'}">${s.autoscaler.enabled ? 'Turn off' : 'Turn on'}</button></span>
        <small>${s.pools.map((p) => `${p.pool} wants ${p.autoscaler.desiredSlots ?? '-'} slots${p.autoscaler.bottleneck ? ' (bottleneck downstream: holds)' : ''}`).join('; ')}</small>
        ${renderDecisions(s.pools.map((p) => p.pool), decisions ?? [])}`
      : html`<small>not running</small>`}</dd>
    <dt>Chaos</dt><dd data-testid="chaos">${faults.length === 0 ? 'no fault active' : html`<ul>${faults.map((f) => html`<li class="mark-bad" data-fault="${f.target}.${f.fault}">${f.fault} on ${f.target}${Object.keys(f.params).length ? ` (${Object.entries(f.params).map(([k, v]) => `${k}=${String(v)}`).join(' ')})` : ''}, ${faultWhen(f, now)}
        ${isSystemFault(f.fault) ? '' : html`<span class="actions admin-only"><button type="button" data-action="chaos-clear" data-name="${f.target}.${f.fault}">Clear</button></span>`}</li>`)}</ul>`}
      ${chaosForm()}</dd>
  </dl>`;
}

const processFaults = faultNames.filter((f) => !isSystemFault(f));
const durationChoices = [['30 s', 30_000], ['2 min', 120_000], ['5 min', 300_000], ['10 min', 600_000], ['30 min', 1_800_000], ['1 h', 3_600_000]] as const;

/** Setting a process fault, as `tps chaos set`; system faults stay with the command (they stop what
 * the console and the admin API run on). The parameters each fault takes are listed under it. */
function chaosForm(): Html {
  return html`<div class="actions admin-only chaos-set">
    <select name="chaos-target" aria-label="target">${processTargets.map((t) => html`<option>${t}</option>`)}</select>
    <select name="chaos-fault" aria-label="fault">${processFaults.map((f) => html`<option>${f}</option>`)}</select>
    <input name="chaos-params" placeholder="ms=5000 ratio=0.5" aria-label="parameters, name=value">
    <select name="chaos-duration" aria-label="for how long">${durationChoices.map(([label, value]) => html`<option value="${value}" ${value === 600_000 ? 'selected' : ''}>${label}</option>`)}</select>
    <button type="button" data-action="chaos-set">Start fault</button>
    <br><small>${processFaults.map((f) => `${f}: ${Object.keys(faultCatalogue[f].params.shape).join(', ') || 'no parameters'}`).join('; ')}. NATS, monitoring and the autoscaler are stopped with <code>make chaos</code>.</small>
  </div>`;
}

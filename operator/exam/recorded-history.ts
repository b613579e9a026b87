// The recording rules over a staged history, evaluated by the Prometheus that serves it (its
// range-query API: the same PromQL engine and the same instant evaluation at each step as a rule
// group's), written as the OpenMetrics text `promtool tsdb create-blocks-from openmetrics` turns
// into blocks, as the history itself is.
//
// Why not `promtool tsdb create-blocks-from rules`, which did this before: it queries each rule
// over each 2-hour block apart and writes a TSDB block for every rule and 2-hour block (434 for
// the exam's 60-hour weekend), which took 18 s of CPU alone and several minutes on a loaded
// machine, left Prometheus hundreds of blocks to load and compact, and skipped whole rule groups
// when --start fell in a block's last interval (prometheus/prometheus#19714). Here: one range
// query per rule (a few where the history is longer than Prometheus' 11 000 points a series), a
// few at a time, and three blocks of a day.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { monitoringPaths } from '#monitoring/native.ts';
import { BackfillError } from './backfill.ts';
import { historyRules, historyStepSeconds, type RecordingRule } from './history-rules.ts';

/** At most this many steps per range query (Prometheus refuses more than 11 000 points a series). */
const stepsPerQuery = 10_000;
const queriesAtOnce = 4;
const queryTimeoutMs = 120_000;

const rangeAnswer = z.union([
  z.object({ status: z.literal('success'), data: z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) })) }) }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
type Series = { labels: Record<string, string>; samples: Array<[number, string]> };

/** One rule over [from, to] (Unix seconds, on the step's grid): its series, the rule's labels applied. */
async function rangeQuery(prometheusUrl: string, rule: RecordingRule, from: number, to: number, step: number): Promise<Series[]> {
  const body = new URLSearchParams({ query: rule.expr, start: String(from), end: String(to), step: String(step) });
  const res = await fetch(`${prometheusUrl}/api/v1/query_range`, { method: 'POST', body, signal: AbortSignal.timeout(queryTimeoutMs) }).catch((err: Error) => {
    throw new BackfillError(`evaluating the recording rule ${rule.record}: no answer from Prometheus at ${prometheusUrl} (${err.message})`, { cause: err });
  });
  const answer = rangeAnswer.safeParse(await res.json().catch(() => undefined));
  if (!answer.success) throw new BackfillError(`evaluating the recording rule ${rule.record}: Prometheus answered HTTP ${res.status} with no range result`);
  if (answer.data.status === 'error') throw new BackfillError(`evaluating the recording rule ${rule.record}: ${answer.data.errorType}: ${answer.data.error}`);
  return answer.data.data.result.map(({ metric, values }) => {
    const { __name__: _name, ...labels } = metric;
    return { labels: { ...labels, ...rule.labels }, samples: values };
  });
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) => {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
};

export type RecordedHistory = { text: string; series: number; samples: number };

/**
 * Every rule evaluated every `stepSeconds` from `start` to `end` (on the step's grid, as a group's
 * evaluations are), as OpenMetrics text: one gauge family per recorded name, each series' samples
 * in time order. One pass: a rule over another recorded series finds nothing (history-rules.ts
 * leaves those out).
 */
export async function evaluateRules(opts: { prometheusUrl: string; start: Date; end: Date; stepSeconds: number; rules: readonly RecordingRule[] }): Promise<RecordedHistory> {
  const step = opts.stepSeconds;
  const first = Math.ceil(opts.start.getTime() / 1000 / step) * step;
  const last = Math.floor(opts.end.getTime() / 1000 / step) * step;
  const windows: Array<[number, number]> = [];
  for (let from = first; from <= last; from += stepsPerQuery * step) windows.push([from, Math.min(last, from + (stepsPerQuery - 1) * step)]);
  const work = opts.rules.flatMap((rule) => windows.map(([from, to]) => ({ rule, from, to })));
  const results: Series[][] = new Array(work.length);
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const i = next++;
      const { rule, from, to } = work[i] as (typeof work)[number];
      results[i] = await rangeQuery(opts.prometheusUrl, rule, from, to, step);
    }
  };
  await Promise.all(Array.from({ length: Math.min(queriesAtOnce, work.length) }, worker));
  // A family's samples together (two rules may record one name, with labels of their own); a
  // series' windows in order, so its samples stay in time order.
  const families = new Map<string, Map<string, Array<[number, string]>>>();
  work.forEach(({ rule }, i) => {
    const family = families.get(rule.record) ?? new Map<string, Array<[number, string]>>();
    families.set(rule.record, family);
    for (const s of results[i] ?? []) {
      const key = labelText(s.labels);
      family.set(key, (family.get(key) ?? []).concat(s.samples));
    }
  });
  const lines: string[] = [];
  let [series, samples] = [0, 0];
  for (const [name, family] of families) {
    if (family.size === 0) continue;
    lines.push(`# TYPE ${name} gauge`);
    for (const [labels, points] of family) {
      series += 1;
      samples += points.length;
      for (const [t, v] of points) lines.push(`${name}${labels} ${v} ${t}`);
    }
  }
  lines.push('# EOF', '');
  return { text: lines.join('\n'), series, samples };
}

const ruleFiles = () => readdirSync(monitoringPaths.rules).filter((f) => f.endsWith('.yml')).map((f) => path.join(monitoringPaths.rules, f));

/**
 * The recording rules history-rules.ts chooses, evaluated over [start, end] by the Prometheus that
 * serves the history, as OpenMetrics text for promtool; says what it evaluates. Throws when every
 * rule evaluated to nothing (Prometheus does not serve the history).
 */
export async function recordedHistory(prometheusUrl: string, window: { what: string; start: Date; end: Date }, progress?: (line: string) => void): Promise<string> {
  const selected = historyRules(ruleFiles());
  progress?.(`history: evaluating ${selected.kept} recording rules over it (${selected.leftOut} over recorded series or a day or more are left to the live scrapes)`);
  const recorded = await evaluateRules({ prometheusUrl, start: window.start, end: window.end, stepSeconds: historyStepSeconds, rules: selected.rules });
  if (recorded.series === 0) throw new BackfillError(`the recording rules recorded nothing over ${window.what}: every rule evaluated to nothing (does Prometheus at ${prometheusUrl} serve the history?)`);
  return recorded.text;
}

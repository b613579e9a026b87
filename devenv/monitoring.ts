// Reads the monitoring artifacts as Prometheus and Grafana see them (rule files, dashboard JSON,
// provisioning) and the metric names their PromQL uses.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createRegistry, metrics } from '#platform/metrics.ts';
import { projectRoot } from '#platform/paths.ts';

export const root = (...parts: string[]) => path.join(projectRoot, ...parts);
export const readYaml = <T>(file: string): T => parse(readFileSync(root(file), 'utf8')) as T;

export type Rule = { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
export type RuleFile = { groups: Array<{ name: string; rules: Rule[] }> };

export function rules(): Rule[] {
  return readdirSync(root('prometheus', 'rules')).filter((f) => f.endsWith('.yml'))
    .flatMap((f) => readYaml<RuleFile>(`prometheus/rules/${f}`).groups.flatMap((g) => g.rules));
}

export type Target = { refId: string; expr?: string; datasource?: { uid?: string; type?: string } };
export type DashboardPanel = { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid?: string }; targets?: Target[] };
export type Dashboard = { uid: string; title: string; panels: DashboardPanel[] };

export function dashboards(): Dashboard[] {
  return readdirSync(root('grafana', 'dashboards')).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(root('grafana', 'dashboards', f), 'utf8')) as Dashboard);
}

/** Every PromQL query of every panel, with where it comes from. */
export function panelQueries(): Array<{ where: string; expr: string }> {
  return dashboards().flatMap((d) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr ?? '' }))));
}

const keywords = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan',
  // Aggregation operators may stand before their `by (...)` clause, so not always before "(".
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile',
]);

/**
 * The metric (and recorded series) names a PromQL expression reads: identifiers that are not
 * functions, keywords, label names in matchers or grouping clauses, strings or durations.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1');
  const names = [...bare.matchAll(/[a-zA-Z_:][\w:]*(?!\s*\()/g)]
    .filter((m) => !/\w/.test(bare[m.index + m[0].length] ?? '') && !/[\w.]/.test(bare[m.index - 1] ?? ''))
    .map((m) => m[0]);
  return [...new Set(names.filter((n) => !keywords.has(n.toLowerCase())))];
}

/** Series names a histogram family exports. */
const histogramSeries = (name: string) => [`${name}_bucket`, `${name}_count`, `${name}_sum`];

/** The contract (platform/metrics.ts) as exported series names. */
export function contractSeries(): Set<string> {
  return new Set(Object.values(metrics).flatMap((d) => (d.kind === 'histogram' ? histogramSeries(d.name) : [d.name])));
}

/** What prom-client's default collectors export in every role (CPU, memory, event loop, GC). */
export async function defaultSeries(): Promise<Set<string>> {
  const registry = createRegistry();
  const families = await registry.getMetricsAsJSON();
  const names = families.flatMap((f) => (String(f.type) === 'histogram' ? histogramSeries(f.name) : [f.name]));
  return new Set(names.filter((n) => !n.startsWith('tps_')));
}

/** Series Prometheus itself writes for every scrape target. */
export const prometheusSeries = new Set(['up']);

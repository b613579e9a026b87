// The probes of lab 3.3 (a dashboard of the learner's own): the dashboard as Grafana exports it
// (Share -> Export -> Save to file, or the HTTP API's {dashboard, meta}) and a Prometheus alert
// rule file, both saved in the labs state folder, read against the published formats and asked of
// the live Prometheus: do the panels' queries use our metrics and return data, is every panel
// explained, is there a way to the traces or logs, do the alerts parse and watch what the
// dashboard shows.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isFailure, prometheusApi } from '#operator/prometheus-api.ts';
import type { Probe } from './lab-schema.ts';
import { learnerFile } from './lab-state.ts';
import type { ProbeResult } from './probe-result.ts';

const link = z.looseObject({ url: z.string().optional(), title: z.string().optional() });
type Panel = { type: string; title: string; description?: string | undefined; exprs: string[]; links: string[] };

const rawPanel: z.ZodType<{ type: string; title?: string; description?: string; targets?: Array<{ expr?: string }>; links?: Array<{ url?: string }>; panels?: unknown[]; fieldConfig?: { defaults?: { links?: Array<{ url?: string }> } } }> = z.looseObject({
  type: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  targets: z.array(z.looseObject({ expr: z.string().optional() })).optional(),
  links: z.array(link).optional(),
  panels: z.array(z.unknown()).optional(),
  fieldConfig: z.looseObject({ defaults: z.looseObject({ links: z.array(link).optional() }).optional() }).optional(),
});
const dashboardSchema = z.looseObject({ title: z.string(), panels: z.array(rawPanel), links: z.array(link).optional() });

type Dashboard = { title: string; panels: Panel[]; links: string[] };

/** The dashboard in the learner's file, its rows unfolded; a string says what is wrong with it. */
export function readDashboard(file: string): Dashboard | string {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? `no dashboard saved at ${file} yet` : `${file} is not JSON: ${(err as Error).message}`;
  }
  // The HTTP API answers {dashboard, meta}; an export is the dashboard itself.
  const body = json && typeof json === 'object' && 'dashboard' in json ? (json as { dashboard: unknown }).dashboard : json;
  const parsed = dashboardSchema.safeParse(body);
  if (!parsed.success) return `${file} is not a Grafana dashboard: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`;
  const panels: Panel[] = [];
  const visit = (raw: readonly unknown[]) => {
    for (const item of raw) {
      const p = rawPanel.safeParse(item);
      if (!p.success) continue;
      const { type, title = '', description, targets = [], links = [], panels: inner = [], fieldConfig } = p.data;
      if (type === 'row') { visit(inner); continue; }
      const urls = [...links, ...(fieldConfig?.defaults?.links ?? [])].map((l) => l.url ?? '');
      panels.push({ type, title, description, exprs: targets.map((t) => t.expr ?? '').filter(Boolean), links: urls });
    }
  };
  visit(parsed.data.panels);
  return { title: parsed.data.title, panels, links: (parsed.data.links ?? []).map((l) => l.url ?? '') };
}

/** The TPS Lab metrics a query reads, by stem: `pool:tps_worker_utilization:ratio` and
 * `tps_worker_utilization` both read tps_worker_utilization; a histogram's series are one metric. */
export function metricStems(expr: string): Set<string> {
  return new Set([...expr.matchAll(/tps_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count|total)$/, '')));
}

/** Grafana's variables, as Prometheus can run the query: intervals become 1m, a label matched
 * against a variable matches any value. */
export function runnable(expr: string): string {
  return expr
    .replace(/\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?/g, '1m')
    .replace(/(\w+)\s*=~?\s*"\$\{?\w+(:\w+)?\}?"/g, '$1=~".+"');
}

type QueryAnswer = { result?: unknown[] };

/** The query's result, a refusal (a bad query) as `{ refused }`, or why Prometheus could not be asked. */
async function ask(prometheusUrl: string, expr: string): Promise<QueryAnswer | { refused: string } | string> {
  const answer = await prometheusApi<QueryAnswer>(prometheusUrl, '/api/v1/query', { query: runnable(expr) });
  if (!isFailure(answer)) return answer;
  return answer.failed === 'refused' ? { refused: answer.error ?? answer.reason } : answer.reason;
}

const traceOrLog = /jaeger|:16686|\/explore|trace|\blogs?\b|loki/i;
const words = (text: string | undefined) => (text ?? '').split(/\s+/).filter(Boolean).length;
const list = (names: readonly string[]) => `${names.slice(0, 4).join(', ')}${names.length > 4 ? `, ... (${names.length})` : ''}`;

type DashboardProbe = Extract<Probe, { kind: 'dashboard' }>;

export async function dashboardResult(probe: DashboardProbe, stateDir: string | undefined, prometheusUrl: string | undefined): Promise<ProbeResult> {
  if (!stateDir) return { holds: false, reason: 'no state folder to read the dashboard from' };
  const dashboard = readDashboard(learnerFile(stateDir, probe.file));
  if (typeof dashboard === 'string') return { holds: false, reason: dashboard };
  const { panels } = dashboard;
  switch (probe.aspect) {
    case 'panels': {
      const types = [...new Set(panels.map((p) => p.type))];
      const measured = `${panels.length} panels (${types.join(', ')})`;
      if (panels.length < probe.min || panels.length > probe.max) return { holds: false, measured, reason: `"${dashboard.title}" has ${panels.length} panels; the lab asks for ${probe.min}-${probe.max}` };
      if (types.length < 2) return { holds: false, measured, reason: `every panel is a ${types[0] ?? '?'}: show each metric the way it reads best (a time series, a gauge, a stat, a heatmap)` };
      return { holds: true, measured };
    }
    case 'descriptions': {
      const bare = panels.filter((p) => words(p.description) < 5).map((p) => p.title || p.type);
      return bare.length === 0 ? { holds: true, measured: `${panels.length} panels explained` } : { holds: false, reason: `no description (5 words at least: what it shows, what is normal) on ${list(bare)}` };
    }
    case 'links': {
      const found = [...dashboard.links, ...panels.flatMap((p) => p.links)].filter((u) => traceOrLog.test(u));
      return found.length > 0 ? { holds: true, measured: found[0] } : { holds: false, reason: 'no link to the traces or the logs (a dashboard link or a panel/data link to Jaeger or Explore)' };
    }
    case 'queries': {
      if (!prometheusUrl) return { holds: false, reason: 'no Prometheus is configured here (TPS_PROMETHEUS_URL)' };
      const problems: string[] = [];
      for (const p of panels) {
        if (p.exprs.length === 0) { problems.push(`${p.title}: no query`); continue; }
        for (const expr of p.exprs) {
          if (metricStems(expr).size === 0) { problems.push(`${p.title}: ${expr} reads no TPS Lab metric (tps_*)`); continue; }
          const answer = await ask(prometheusUrl, expr);
          if (typeof answer === 'string') return { holds: false, reason: answer };
          if ('refused' in answer) problems.push(`${p.title}: Prometheus refuses ${expr} (${answer.refused})`);
          else if ((answer.result?.length ?? 0) === 0) problems.push(`${p.title}: ${expr} returns no data now`);
        }
      }
      const count = panels.reduce((n, p) => n + p.exprs.length, 0);
      return problems.length === 0 ? { holds: true, measured: `${count} queries over our metrics, each with data` } : { holds: false, reason: problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '') };
    }
  }
}

const ruleFileSchema = z.object({
  groups: z.array(z.object({
    name: z.string(),
    rules: z.array(z.looseObject({
      alert: z.string().optional(), record: z.string().optional(), expr: z.union([z.string(), z.number()]).transform(String),
      for: z.string().optional(), labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional(),
    })),
  })).min(1),
});

type AlertRulesProbe = Extract<Probe, { kind: 'alert-rules' }>;

export async function alertRulesResult(probe: AlertRulesProbe, stateDir: string | undefined, prometheusUrl: string | undefined): Promise<ProbeResult> {
  if (!stateDir) return { holds: false, reason: 'no state folder to read the alert rules from' };
  const file = learnerFile(stateDir, probe.file);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return { holds: false, reason: `no alert rules saved at ${file} yet` }; }
  let doc: unknown;
  try { doc = parseYaml(text); } catch (err) { return { holds: false, reason: `${file} is not YAML: ${(err as Error).message.split('\n')[0]}` }; }
  const parsed = ruleFileSchema.safeParse(doc);
  if (!parsed.success) return { holds: false, reason: `${file} is not a Prometheus rule file: ${parsed.error.issues.slice(0, 2).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const alerts = parsed.data.groups.flatMap((g) => g.rules).filter((r) => r.alert);
  if (alerts.length < probe.atLeast) return { holds: false, measured: alerts.length, reason: `${alerts.length} alerts in ${file}; the lab asks for ${probe.atLeast} at least` };
  const dashboard = readDashboard(learnerFile(stateDir, probe.dashboard));
  const shown = typeof dashboard === 'string' ? new Set<string>() : new Set(dashboard.panels.flatMap((p) => p.exprs.flatMap((e) => [...metricStems(e)])));
  if (!prometheusUrl) return { holds: false, reason: 'no Prometheus is configured here (TPS_PROMETHEUS_URL)' };
  const problems: string[] = [];
  for (const a of alerts) {
    if (!a.labels?.severity) problems.push(`${a.alert}: no severity label`);
    if (!a.annotations?.summary && !a.annotations?.description) problems.push(`${a.alert}: no summary or description annotation (what it means, what to do)`);
    if (![...metricStems(a.expr)].some((m) => shown.has(m))) problems.push(`${a.alert}: watches no metric the dashboard shows`);
    const answer = await ask(prometheusUrl, a.expr);
    if (typeof answer === 'string') return { holds: false, reason: answer };
    if ('refused' in answer) problems.push(`${a.alert}: Prometheus refuses ${a.expr} (${answer.refused})`);
  }
  return problems.length === 0 ? { holds: true, measured: `${alerts.length} alerts, each valid and on a dashboard metric` } : { holds: false, reason: problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '') };
}

// The monitoring artifacts against Grafana's, Prometheus' and Jaeger's published contracts,
// and against the metric contract: nothing names a metric that no role emits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRegistry, histogram, metrics } from '#platform/metrics.ts';
import { defaultPorts } from '#platform/ports.ts';
import { severities } from '#monitoring/handbook.ts';
import { jaegerEnvironment, nativePrometheusConfig, writeGrafanaProvisioning } from '#monitoring/native.ts';
import { roles } from '#services/registry.ts';
import {
  contractSeries, dashboards, defaultSeries, metricNames, panelQueries, prometheusSeries, readYaml, root, rules,
} from '#devenv/monitoring.ts';

type Datasource = { name: string; uid: string; type: string; url: string; isDefault?: boolean; jsonData?: { exemplarTraceIdDestinations?: Array<{ name: string; datasourceUid: string }> } };
const provisioned = readYaml<{ datasources: Datasource[] }>('grafana/provisioning/datasources/tps.yml').datasources;

describe('Grafana dashboards', () => {
  const all = dashboards();

  it('are the four of the issue, with unique uids and titles', () => {
    expect(all.map((d) => d.uid).sort()).toEqual(['tps-chain', 'tps-overview', 'tps-pools', 'tps-slo']);
    expect(new Set(all.map((d) => d.title)).size).toBe(all.length);
  });

  it('have unique panel ids and panels inside the 24-column grid that do not overlap', () => {
    for (const d of all) {
      expect(new Set(d.panels.map((p) => p.id)).size, d.uid).toBe(d.panels.length);
      for (const [i, p] of d.panels.entries()) {
        expect(p.gridPos.x + p.gridPos.w, `${d.uid} ${p.title}`).toBeLessThanOrEqual(24);
        for (const q of d.panels.slice(i + 1)) {
          const overlap = p.gridPos.x < q.gridPos.x + q.gridPos.w && q.gridPos.x < p.gridPos.x + p.gridPos.w
            && p.gridPos.y < q.gridPos.y + q.gridPos.h && q.gridPos.y < p.gridPos.y + p.gridPos.h;
          expect(overlap, `${d.uid}: "${p.title}" overlaps "${q.title}"`).toBe(false);
        }
      }
    }
  });

  it('every panel and target uses a provisioned datasource, and every target has a query', () => {
    const uids = new Set(provisioned.map((ds) => ds.uid));
    for (const d of all) {
      for (const p of d.panels.filter((x) => x.type !== 'row')) {
        expect(uids.has(p.datasource?.uid ?? ''), `${d.uid} / ${p.title}`).toBe(true);
        expect(p.targets?.length, `${d.uid} / ${p.title}`).toBeGreaterThan(0);
        expect(new Set(p.targets?.map((t) => t.refId)).size).toBe(p.targets?.length);
        for (const t of p.targets ?? []) {
          expect(uids.has(t.datasource?.uid ?? ''), `${d.uid} / ${p.title} / ${t.refId}`).toBe(true);
          expect(t.expr?.trim(), `${d.uid} / ${p.title} / ${t.refId}`).toBeTruthy();
        }
      }
    }
  });

  it('latency panels over raw histograms ask for exemplars (links to traces)', () => {
    const raw = dashboards().flatMap((d) => d.panels.flatMap((p) => (p.targets ?? []) as Array<{ expr: string; exemplar?: boolean }>))
      .filter((t) => /histogram_quantile\(.*_bucket/.test(t.expr));
    expect(raw.length).toBeGreaterThan(5);
    expect(raw.filter((t) => !t.exemplar).map((t) => t.expr)).toEqual([]);
  });
});

describe('Grafana datasources', () => {
  it('have fixed, unique uids; Prometheus is the default', () => {
    expect(provisioned.map((d) => d.uid).sort()).toEqual(['tps-jaeger', 'tps-prometheus']);
    expect(provisioned.find((d) => d.isDefault)?.uid).toBe('tps-prometheus');
    expect(provisioned.find((d) => d.uid === 'tps-jaeger')?.type).toBe('jaeger');
  });

  it('link the exemplar label the metrics carry (trace_id) to the Jaeger datasource', async () => {
    const links = provisioned.find((d) => d.uid === 'tps-prometheus')?.jsonData?.exemplarTraceIdDestinations ?? [];
    expect(links).toEqual([{ name: 'trace_id', datasourceUid: 'tps-jaeger' }]);
    const registry = createRegistry({ defaults: false });
    histogram(registry, metrics.jobProcessing).observe({ pool: 'fast', type: 'fast.echo' }, 0.01, '4bf92f3577b34da6a3ce929d0e0e4736');
    expect(await registry.metrics()).toMatch(/tps_job_processing_seconds_bucket\{.*\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\}/);
  });

  it('the dashboards provider loads the folder compose mounts', () => {
    const providers = readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>('grafana/provisioning/dashboards/tps.yml').providers;
    expect(providers).toMatchObject([{ type: 'file', options: { path: '/var/lib/grafana/dashboards' } }]);
  });

  it('native mode gets the same provisioning with 127.0.0.1 URLs and the project\'s dashboards folder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-grafana-'));
    try {
      writeGrafanaProvisioning(dir, { prometheus: 'http://127.0.0.1:19090', jaeger: 'http://127.0.0.1:26686' });
      const sources = parse(readFileSync(path.join(dir, 'datasources', 'tps.yml'), 'utf8')).datasources as Datasource[];
      expect(sources.map(({ uid, url }) => ({ uid, url }))).toEqual([
        { uid: 'tps-prometheus', url: 'http://127.0.0.1:19090' }, { uid: 'tps-jaeger', url: 'http://127.0.0.1:26686' },
      ]);
      expect(sources[0]?.jsonData).toEqual(provisioned[0]?.jsonData);
      expect(parse(readFileSync(path.join(dir, 'dashboards', 'tps.yml'), 'utf8')).providers[0].options.path).toBe(root('grafana', 'dashboards'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metric names', () => {
  it('every metric a panel or a rule names is in the contract, a prom-client default, a recording rule or up', async () => {
    const recorded = new Set(rules().flatMap((r) => (r.record ? [r.record] : [])));
    const known = new Set([...contractSeries(), ...(await defaultSeries()), ...recorded, ...prometheusSeries]);
    const used = [...panelQueries(), ...rules().map((r) => ({ where: r.record ?? r.alert ?? '?', expr: r.expr }))]
      .flatMap(({ where, expr }) => metricNames(expr).map((name) => ({ where, name })));
    expect(used.length).toBeGreaterThan(100);
    expect(used.filter((u) => !known.has(u.name))).toEqual([]);
  });

  it('the name extraction sees metrics and recorded series, not functions, labels or keywords', () => {
    expect(metricNames('sum by (pool, le) (rate(tps_x_bucket{le="0.5", pool=~"a|b"}[5m])) / on (pool) group_left () max(a:b:c) or vector(0) > bool 1')).toEqual(['tps_x_bucket', 'a:b:c']);
  });
});

describe('Prometheus alert rules', () => {
  const doc = readFileSync(root('docs', 'observability.md'), 'utf8');
  const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] ?? '').toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));

  it('carry a handbook severity, a summary, a description and a runbook section that exists', () => {
    for (const r of rules().filter((x) => x.alert)) {
      expect(severities, r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary && r.annotations.description, r.alert).toBeTruthy();
      expect(anchors.has(r.annotations?.runbook?.split('#')[1] ?? ''), `${r.alert}: ${r.annotations?.runbook}`).toBe(true);
    }
  });
});

describe('Prometheus scrape configuration', () => {
  type ScrapeConfig = { job_name: string; dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>; file_sd_configs?: Array<{ files: string[] }> };
  const compose = readYaml<{ rule_files: string[]; scrape_configs: ScrapeConfig[] }>('prometheus/prometheus.yml');

  it('compose finds every replica of every role (and the autoscaler) by DNS at its default port', () => {
    const expected = [...Object.values(roles).map((r) => r.name), 'autoscaler'];
    for (const name of new Set(expected)) {
      const job = compose.scrape_configs.find((c) => c.job_name === name);
      expect(job?.dns_sd_configs, name).toEqual([expect.objectContaining({ names: [name], type: 'A', port: defaultPorts[name as keyof typeof defaultPorts] })]);
    }
    expect(compose.rule_files).toEqual(['rules/*.yml']);
  });

  it('native mode has a job per role reading the targets file the supervisor keeps (every replica), with the project\'s rules', () => {
    const jobs = Object.values(roles).map((r) => r.name);
    const config = nativePrometheusConfig('/state/prometheus', jobs, { intervalMs: 1000 }) as { global: Record<string, string>; rule_files: string[]; scrape_configs: ScrapeConfig[] };
    expect(config.global).toMatchObject({ scrape_interval: '1s', evaluation_interval: '1s' });
    expect(config.rule_files).toEqual([root('prometheus', 'rules', '*.yml')]);
    expect(config.scrape_configs.map((c) => [c.job_name, c.file_sd_configs?.[0]?.files])).toEqual(
      jobs.map((job) => [job, [`/state/prometheus/targets/${job}.json`]]),
    );
  });
});

describe('Jaeger v2 configuration', () => {
  const text = readFileSync(root('jaeger', 'config.yaml'), 'utf8');
  type Jaeger = {
    service: { extensions: string[]; pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } };
    extensions: Record<string, Record<string, unknown>>;
    receivers: Record<string, unknown>; processors: Record<string, unknown>; exporters: Record<string, { trace_storage?: string }>;
  };
  const config = parse(text) as Jaeger;

  it('wires OTLP in to a bounded in-memory store the query UI reads', () => {
    for (const e of config.service.extensions) expect(config.extensions[e], e).toBeDefined();
    const p = config.service.pipelines.traces;
    for (const r of p.receivers) expect(config.receivers[r], r).toBeDefined();
    for (const r of p.processors) expect(config.processors[r], r).toBeDefined();
    for (const r of p.exporters) expect(config.exporters[r], r).toBeDefined();
    const store = config.exporters.jaeger_storage_exporter?.trace_storage ?? '';
    const backends = config.extensions.jaeger_storage?.backends as Record<string, { memory?: { max_traces: number } }>;
    expect(backends[store]?.memory?.max_traces).toBeGreaterThan(0);
    expect(config.extensions.jaeger_query?.storage).toEqual({ traces: store });
  });

  it('listens on the documented ports by default; native mode sets every address it reads', () => {
    expect(text).toContain(`\${env:JAEGER_UI_ENDPOINT:-0.0.0.0:${defaultPorts.jaegerUi}}`);
    expect(text).toContain(`\${env:JAEGER_OTLP_HTTP_ENDPOINT:-0.0.0.0:${defaultPorts.otlpHttp}}`);
    const read = [...text.matchAll(/\$\{env:(\w+):-/g)].map((m) => m[1]).sort();
    expect(Object.keys(jaegerEnvironment(0)).sort()).toEqual(read);
  });
});

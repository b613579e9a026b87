// A small builder for Grafana's dashboard JSON model (schemaVersion 39): the few panel types the
// TPS dashboards use, thresholds from the handbook, and automatic left-to-right layout.

export const datasources = {
  prometheus: { type: 'prometheus', uid: 'tps-prometheus' },
  jaeger: { type: 'jaeger', uid: 'tps-jaeger' },
} as const;

export type Step = { color: string; value: number | null };
/** Colours from a base upwards: `steps('green', [0.8, 'orange'], [1, 'red'])`. */
export const steps = (base: string, ...above: Array<[number, string]>): Step[] =>
  [{ color: base, value: null }, ...above.map(([value, color]) => ({ color, value }))];

export type Query = { expr: string; legend?: string; exemplar?: boolean; instant?: boolean };
export type Mapping = Record<string, { text: string; color: string }>;

export type PanelSpec = {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  min?: number;
  max?: number;
  thresholds?: Step[];
  /** Timeseries: draw the thresholds as lines and shaded bands (the handbook's ranges). */
  bands?: boolean;
  mappings?: Mapping;
  w?: number;
  h?: number;
};

type Grid = { x: number; y: number; w: number; h: number };
/** A panel before layout: its size, not yet its place. */
export type Unplaced = { type: string; title: string; size: { w: number; h: number }; [key: string]: unknown };
export type Panel = { type: string; title: string; id: number; gridPos: Grid; [key: string]: unknown };

function targets(queries: Query[]) {
  return queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: datasources.prometheus,
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !q.instant,
    instant: Boolean(q.instant),
    ...(q.exemplar ? { exemplar: true } : {}),
  }));
}

function fieldConfig(s: PanelSpec, custom: Record<string, unknown> = {}) {
  const mappings = s.mappings
    ? [{ type: 'value', options: Object.fromEntries(Object.entries(s.mappings).map(([v, m], index) => [v, { ...m, index }])) }]
    : [];
  return {
    defaults: {
      unit: s.unit ?? 'short',
      ...(s.min !== undefined ? { min: s.min } : {}),
      ...(s.max !== undefined ? { max: s.max } : {}),
      color: { mode: s.thresholds && !custom.drawStyle ? 'thresholds' : 'palette-classic' },
      thresholds: { mode: 'absolute', steps: s.thresholds ?? steps('green') },
      mappings,
      custom,
    },
    overrides: [],
  };
}

function base(type: string, s: PanelSpec, defaults: { w: number; h: number }): Unplaced {
  return {
    type, title: s.title, description: s.description, datasource: datasources.prometheus,
    targets: targets(s.queries), size: { w: s.w ?? defaults.w, h: s.h ?? defaults.h },
  };
}

export function timeseries(s: PanelSpec): Unplaced {
  return {
    ...base('timeseries', s, { w: 12, h: 8 }),
    fieldConfig: fieldConfig(s, {
      drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false,
      thresholdsStyle: { mode: s.bands ? 'line+area' : 'off' },
    }),
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

/** One big coloured value per series: traffic lights, fill levels. */
export function stat(s: PanelSpec): Unplaced {
  return {
    ...base('stat', s, { w: 6, h: 4 }),
    fieldConfig: fieldConfig(s),
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background', graphMode: 'none', textMode: 'value_and_name', orientation: 'auto', justifyMode: 'auto',
    },
  };
}

/** Horizontal bars from min to max, coloured by the thresholds: utilization and fill ratios. */
export function bars(s: PanelSpec): Unplaced {
  return {
    ...base('bargauge', s, { w: 6, h: 8 }),
    fieldConfig: fieldConfig(s),
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true, valueMode: 'color',
    },
  };
}

export function row(title: string): Unplaced {
  return { type: 'row', title, collapsed: false, panels: [], size: { w: 24, h: 1 } };
}

/** Places panels left to right, wrapping at Grafana's 24 columns; ids in order. */
function layout(items: Unplaced[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return items.map(({ size, ...panel }, i) => {
    if (x + size.w > 24 || panel.type === 'row') { y += rowHeight; x = 0; rowHeight = 0; }
    const placed: Panel = { ...panel, id: i + 1, gridPos: { x, y, w: size.w, h: size.h } };
    x += size.w;
    rowHeight = Math.max(rowHeight, size.h);
    if (panel.type === 'row') { y += size.h; x = 0; rowHeight = 0; }
    return placed;
  });
}

/** Every `tps config set|reset` as a mark on every time series: the value a process applies changed
 * (tps_config_parameter, platform/params/follow.ts), so a step in a panel meets its cause. */
export const parameterChanges = {
  name: 'Live parameter changes (tps config)',
  datasource: datasources.prometheus,
  enable: true,
  iconColor: 'purple',
  expr: 'count by (name) (changes(tps_config_parameter[1m]) > 0)',
  step: '15s',
  titleFormat: '{{name}} changed',
  textFormat: 'tps config set/reset: see tps config get {{name}}',
};

export type Dashboard = ReturnType<typeof dashboard>;

export function dashboard(d: { uid: string; title: string; description: string; panels: Unplaced[] }) {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['tps-lab'],
    timezone: 'browser',
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '5s',
    time: { from: 'now-30m', to: 'now' },
    timepicker: {},
    templating: { list: [] },
    annotations: { list: [parameterChanges] },
    links: [{ title: 'TPS Lab', type: 'dashboards', tags: ['tps-lab'], asDropdown: true, includeVars: false, keepTime: true }],
    panels: layout(d.panels),
  };
}

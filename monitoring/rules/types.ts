// The shapes of Prometheus rule files (https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/).
import type { Severity } from '../handbook.ts';

export type RecordingRule = { record: string; expr: string; labels?: Record<string, string> };

export type AlertRule = {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity } & Record<string, string>;
  annotations: { summary: string; description: string; runbook: string };
};

export type RuleGroup<R = RecordingRule | AlertRule> = { name: string; rules: R[] };

export const isAlert = (rule: RecordingRule | AlertRule): rule is AlertRule => 'alert' in rule;

/** Where each alert's runbook lives: a section of docs/observability.md. */
export const runbook = (anchor: string) => `docs/observability.md#${anchor}`;

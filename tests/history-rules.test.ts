// The recording rules evaluated over a staged history (operator/exam/history-rules.ts): every
// rule over raw series with ranges under a day, none over recorded series, none reaching a day.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { historyRules, historyStepSeconds, longestRangeSeconds } from '#operator/exam/history-rules.ts';
import { monitoringPaths } from '#monitoring/native.ts';

it('reads the longest range of an expression, subqueries too', () => {
  expect(longestRangeSeconds('rate(x[1m]) / rate(y[30d])')).toBe(30 * 86_400);
  expect(longestRangeSeconds('min_over_time(max(x)[48h:5m])')).toBe(48 * 3_600);
  expect(longestRangeSeconds('rate(x[1h30m])')).toBe(5_400);
  expect(longestRangeSeconds('sum(x{le=~"0\\\\.25"})')).toBe(0);
});

it('keeps the rules over raw series shorter than a day, every 5 minutes, and leaves out the others', () => {
  const files = readdirSync(monitoringPaths.rules).filter((f) => f.endsWith('.yml')).map((f) => path.join(monitoringPaths.rules, f));
  const chosen = historyRules(files);
  const rules = chosen.rules;
  const names = rules.map((r) => r.record);
  expect(rules).toHaveLength(chosen.kept);
  expect(historyStepSeconds).toBe(300);
  // What the weekend's panels read: memory per role, queue fill, the SLOs' short error ratios.
  expect(names).toEqual(expect.arrayContaining(['job:process_resident_memory:ratio', 'pool:tps_queue_fill:ratio', 'pool_slo:tps_errors:ratio_rate5m']));
  // Over recorded series (nothing to read in one pass) or reaching a day: not evaluated.
  expect(names).not.toContain('pool_slo:tps_burn_rate:rate1m');
  expect(names).not.toContain('pool_slo:tps_errors:ratio_rate30d');
  expect(rules.every((r) => longestRangeSeconds(r.expr) < 86_400 && !/[a-z_]+:[a-z_:0-9]+/.test(r.expr.replace(/"[^"]*"/g, '')))).toBe(true);
  expect(chosen.leftOut).toBeGreaterThan(0);
});

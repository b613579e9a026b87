// The Level 3 exam's detection clock, taken from Alertmanager (Debian's, started here): an alert
// acknowledged on the console is a silence, and each new silence made during the run counts as the
// candidate's ack at the moment it began, with who and why as the note. A silence from before the
// run, or made before a failure began, records nothing for it; each silence counts once. The exam's
// events are kept in a list here (the proctor keeps them on NATS' EVENTS stream).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAlertmanager, type TestAlertmanager } from '#devenv/alertmanager.ts';
import { alertmanagerApi } from '#operator/alertmanager-api.ts';
import { acknowledgeSilences, type AckDeps } from '#operator/exam/ack.ts';
import { examSubjects } from '#operator/exam/timeline.ts';
import { findLab } from '#operator/labs/catalogue.ts';
import { timelineOf } from '#operator/labs/solve-exam.ts';

let dir: string;
let alertmanager: TestAlertmanager;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-ack-'));
  alertmanager = await startAlertmanager(dir);
}, 40_000);
afterAll(async () => {
  await alertmanager?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('counts each new silence as an ack at its start, with who and why, and nothing before the run or before a failure began', async () => {
  const api = alertmanagerApi(alertmanager.url);
  const exam = findLab('exam-3');
  if (!exam) throw new Error('labs/exam-3.yaml is missing');
  const before = await api.silence({ alertname: 'TpsQueueFull' }, 'dave (console)', 'from an earlier day', 1);
  const startsAt = async (id: string) => Date.parse((await api.silences()).find((s) => s.id === id)?.startsAt ?? '');
  const events: Array<{ subject: string; fields: Record<string, unknown> }> = [];
  // The run starts just after that silence.
  const run = { startedAt: new Date(await startsAt(before) + 1).toISOString(), speed: 60 };
  const deps: Omit<AckDeps, 'note' | 'now'> = {
    timeline: timelineOf(exam), run,
    read: async (subject) => events.filter((e) => e.subject === subject).map((e) => e.fields),
    publish: async (subject, fields) => { events.push({ subject, fields }); },
  };
  const acks = () => events.filter((e) => e.subject === examSubjects.ack).map((e) => e.fields);
  const seen = new Set<string>();
  const early = await api.silence({ alertname: 'TpsErrorRateHigh' }, 'erin (console)', 'nothing has begun yet', 1);
  expect(await startsAt(early)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
  expect(await acknowledgeSilences(deps, await api.silences(), seen)).toEqual([]);
  expect([...seen].sort()).toEqual([before, early].sort());

  const began = new Date().toISOString();
  events.push({ subject: examSubjects.failure, fields: { failure: 'downstream', at: began, target: 'service-a', fault: 'latency' } });
  const id = await api.silence({ alertname: 'TpsLatencySpike', pool: 'fast' }, 'carol (console)', 'p50 of both pools up', 2);
  const acked = await acknowledgeSilences(deps, await api.silences(), seen);
  expect(acked).toEqual([{ failure: 'downstream', detectedMs: (await startsAt(id) - Date.parse(began)) * run.speed, inTime: expect.any(Boolean), alerts: [] }]);
  expect(acks()).toEqual([expect.objectContaining({ failure: 'downstream', note: 'carol (console) silenced TpsLatencySpike: p50 of both pools up' })]);
  // A silence read only after the next failure began, but made before it, does not detect it; a
  // silence counts once, and the failure it detected stays detected once.
  await api.silence({ alertname: 'TpsCircuitOpen' }, 'carol (console)', 'still the first failure', 2);
  events.push({ subject: examSubjects.failure, fields: { failure: 'crash', at: new Date(Date.now() + 60_000).toISOString(), target: 'worker-slow', fault: 'crash' } });
  expect(await acknowledgeSilences(deps, await api.silences(), seen)).toEqual([]);
  expect(await acknowledgeSilences(deps, await api.silences(), seen)).toEqual([]);
  expect(acks()).toHaveLength(1);
}, 30_000);

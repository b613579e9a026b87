// The CLI's side of an exam day (the Level 3 exam): the parts of the lab stack it needs (events to
// publish, `tps restart`, `tps scale --replicas`, the proctor), natively and in compose, the
// proctor itself (`tps exam proctor <lab>`, left running by `tps exam 3 start`) and `tps exam 3 ack`.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { runLoad } from '#loadgen/generator.ts';
import { defaultMix, parseMix } from '#loadgen/mix.ts';
import { alertmanagerApi } from '#operator/alertmanager-api.ts';
import { acknowledge, acknowledgeSilences, type Acknowledged } from '#operator/exam/ack.ts';
import { runProctor } from '#operator/exam/proctor.ts';
import { proctorGone, stopProctorProcess, writeProctorBeat } from '#operator/exam/proctor-process.ts';
import { readRun } from '#operator/labs/lab-state.ts';
import { examSubjects } from '#operator/exam/timeline.ts';
import type { LabStack } from '#operator/labs/engine.ts';
import type { Lab } from '#operator/labs/lab-schema.ts';
import { requireRun } from '#operator/labs/engine.ts';
import { timelineOf } from '#operator/labs/solve-exam.ts';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';
import type { NatsConnection } from '#platform/nats/connect.ts';
import { isPool } from '#platform/pools.ts';
import { openChaosControl } from '#chaos/control-plane.ts';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { changeReplicas, recordReplicas } from './commands/scale.ts';
import { restartRecorded } from './commands/restart.ts';
import { CommandError } from './output.ts';
import { operator } from './session.ts';

type ExamParts = NonNullable<LabStack['exam']>;

function publisher(nc: NatsConnection): ExamParts['publish'] {
  const js = jetstream(nc);
  return async (subject, fields) => {
    const kind = subject.replace(/^tps\.events\./, '');
    if (!(await publishAuditEvent(js, kind, operator(), fields, subject))) throw new CommandError(`could not store the ${kind} event; is NATS up?`);
  };
}

/**
 * In compose this command runs in the tools container, gone when it ends: the proctor is a
 * container of its own (service `proctor`, profile exam) that bin/tps starts once `start` ends,
 * asked for by the file proctor.want in the state folder (.tps/compose/), and removes after `stop`
 * (proctor.done). The levers that need Docker run on the host, from bin/tps.
 */
export function composeExamParts(nc: NatsConnection, stateDir: string): ExamParts {
  return {
    publish: publisher(nc),
    restart: (role) => Promise.reject(new CommandError(`in compose a restart runs on the host: bin/tps restart ${role} (docker compose restart, recorded for the exam)`)),
    replicas: (pool, count) => Promise.reject(new CommandError(`in compose worker containers change on the host: bin/tps scale ${pool} --replicas ${count}`)),
    startProctor(labId) {
      writeFileSync(path.join(stateDir, 'proctor.want'), `${labId}\n`);
      return { pid: 0, log: 'docker compose logs proctor' };
    },
    async stopProctor(labId) {
      if (!(await proctorGone(stateDir, labId))) console.error('warning: the proctor still beats 15 s after the stop; bin/tps removes its container');
      writeFileSync(path.join(stateDir, 'proctor.done'), `${labId}\n`);
    },
  };
}

export function examParts(nc: NatsConnection, stateDir: string): ExamParts {
  return {
    publish: publisher(nc),
    async restart(role, by) {
      const done = await restartRecorded(nc, role, by);
      return `restarted ${done.map((r) => r.name).join(', ')}`;
    },
    async replicas(pool, count, by) {
      if (!isPool(pool)) throw new CommandError(`no pool "${pool}"`);
      const change = await changeReplicas(pool, count, by);
      await recordReplicas(nc, change, by);
      return `${pool} pool: ${change.replicas} worker processes (was ${change.previous})`;
    },
    startProctor(labId) {
      const log = path.join(stateDir, 'labs', `${labId}.proctor.log`);
      mkdirSync(path.dirname(log), { recursive: true });
      const out = openSync(log, 'a');
      const entry = process.argv[1] ?? path.join(import.meta.dirname, 'main.ts');
      const child = spawn(process.execPath, [...process.execArgv, entry, 'exam', 'proctor', labId], { detached: true, stdio: ['ignore', out, out], env: process.env });
      child.unref();
      if (!child.pid) throw new CommandError(`could not start the exam's proctor (see ${log})`);
      return { pid: child.pid, log };
    },
    async stopProctor(labId, p) {
      await stopProctorProcess(p.pid);
      await proctorGone(stateDir, labId);
    },
  };
}

/** The proctor's process: the day's load and failures until the day ends or SIGTERM. */
export async function proctor(lab: Lab, stack: LabStack, nc: NatsConnection): Promise<void> {
  const run = requireRun(lab, stack.stateDir, { active: true });
  const config = loadConfig();
  const chaos = openChaosControl({ config, logger: createLogger('tps', { ...config, log: { level: 'warn' } }), nc });
  const ingress = stack.targets.find((t) => t.role === 'ingress');
  if (!ingress) throw new CommandError('no ingress to send the day\'s load to');
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
  const js = jetstream(nc);
  writeProctorBeat(stack.stateDir, lab.id, 'running');
  const beat = setInterval(() => writeProctorBeat(stack.stateDir, lab.id, 'running'), 1_000);
  const acks = watchSilenceAcks(lab, stack, config.operator.alertmanagerUrl);
  try {
    await runProctor({
      timeline: timelineOf(lab), run, chaos,
      announce: async (what, fields) => { await publishAuditEvent(js, `exam.${what}`, `exam ${lab.id}`, fields, what === 'failure' ? examSubjects.failure : examSubjects.ended); },
      load: (o) => runLoad({ url: ingress.url, rate: o.rate, durationMs: o.seconds * 1000, mix: parseMix(o.mix ?? defaultMix), concurrencyCap: 1000, stop: o.signal }),
      say,
      signal: stop.signal,
      // A run file it cannot read this once (being replaced, a disk hiccup) does not end the day.
      stillOn: () => { try { return !readRun(stack.stateDir, lab.id)?.stoppedAt; } catch { return true; } },
    });
  } finally {
    clearInterval(beat);
    await acks.stop();
    writeProctorBeat(stack.stateDir, lab.id, 'stopped');
    await chaos.close();
  }
}

const say = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

/**
 * An alert acknowledged in Alertmanager (the console's Acknowledge, or amtool) is the candidate's
 * "I see a problem", as `tps exam 3 ack` is: every 2 s the proctor reads the silences and counts
 * each new one, at the moment it began. Said once when Alertmanager does not answer, and once
 * when it answers again.
 */
function watchSilenceAcks(lab: Lab, stack: LabStack, url: string): { stop(): Promise<void> } {
  const api = alertmanagerApi(url);
  const seen = new Set<string>();
  let problem: string | undefined;
  const read = async () => {
    if (!stack.events || !stack.exam) return;
    try {
      const run = requireRun(lab, stack.stateDir, { active: true });
      const acked = await acknowledgeSilences({ timeline: timelineOf(lab), run, read: stack.events, publish: stack.exam.publish, prometheusUrl: stack.prometheusUrl }, await api.silences(), seen);
      if (problem) say(`Alertmanager answers again at ${url}: acknowledged alerts count as acks`);
      problem = undefined;
      for (const a of acked) say(`acknowledged in Alertmanager: ${a.failure} after ${Math.round(a.detectedMs / 1000)} s of exam time (${a.inTime ? 'in time' : 'late'})`);
    } catch (err) {
      if (problem === undefined) say(`acknowledging an alert does not count as an ack for now (\`tps exam 3 ack\` does): ${(err as Error).message}`);
      problem = (err as Error).message;
    }
  };
  let pass = read();
  const timer = setInterval(() => { pass = pass.then(read); }, 2_000);
  return { async stop() { clearInterval(timer); await pass; } };
}

export async function ack(lab: Lab, stack: LabStack, note: string | undefined): Promise<Acknowledged[]> {
  const run = requireRun(lab, stack.stateDir, { active: true });
  if (!stack.events || !stack.exam) throw new CommandError('acknowledging needs NATS (is TPS Lab running? make up)');
  const read = stack.events;
  return acknowledge({ timeline: timelineOf(lab), run, read, publish: stack.exam.publish, prometheusUrl: stack.prometheusUrl, note });
}

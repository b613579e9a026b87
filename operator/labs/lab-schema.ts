// A lab is data: one YAML file in labs/ (beside its page in docs/labs/) says how the lab is set up,
// what the learner does, how each step is checked and weighted, the hints, how to solve it, and
// what to tear down. This schema is the format; `tps lab` refuses a file that does not match it,
// naming the field.
import { z } from 'zod';
import { isFailureCode } from '#platform/dlq/failure-codes.ts';
import { findParameter } from '#platform/params/catalogue.ts';
import { tunableValues } from '#operator/tune/levers.ts';
import { canaryServices, versionName } from '#platform/canary.ts';
import { tuneGoals } from '#operator/tune/tune.ts';
import { id, learnerFileName, probeSchema, singleProbe } from './probe-schema.ts';
import { timelineSchema } from '#operator/exam/timeline.ts';
import { roleNames } from '#platform/roles.ts';
import { poolNames } from '#platform/pools.ts';

export { probeSchema, type Probe, type SingleProbe } from './probe-schema.ts';

/** Applies only when the setup chose these values (an exam's incident picks its residue and checks). */
const when = z.record(id, id).optional();

const checkSchema = z.object({
  id,
  title: z.string().min(1),
  weight: z.number().positive().default(1),
  probe: probeSchema,
  when,
  /** Who grades it: the machine, or the machine in part and a person for the rest (said in the report). */
  graded: z.enum(['machine', 'machine and person']).default('machine'),
  /** Once it holds it stays passed (a moment that was seen: "stable under load"), recorded with
   * its time and what was measured; otherwise a check is judged on the stack as it is now. */
  latch: z.boolean().default(false),
  /** The ladder `tps lab hint` climbs: a nudge, where to look, the answer. */
  hints: z.array(z.string().min(1)).min(1).max(3),
});
export type Check = z.infer<typeof checkSchema>;

/** A fault the setup sets; `target` may name a choice (`$choice`) the lab made at random. */
const faultStep = z.object({ target: z.string().min(1), fault: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}), when });

/** What `tps lab solve` does, in order; a step with `when` only for the setup's choice. */
const solveStepKinds = z.discriminatedUnion('do', [
  z.object({ do: z.literal('submit'), type: z.string().min(1), count: z.number().int().min(1).max(10_000).default(1) }),
  /** Answers from a setup choice (`from`) or with a given value. */
  z.object({ do: z.literal('answer'), key: id, from: id.optional(), value: z.string().optional() }),
  /** Answers every `reading` question from the live metrics, as a learner reading the panels would. */
  z.object({ do: z.literal('read') }),
  /** What the learner would do with `make chaos` / `make chaos-stop`. */
  z.object({ do: z.literal('fault'), target: z.string().min(1), fault: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }),
  z.object({ do: z.literal('clear'), target: z.string().min(1) }),
  /** `make load`: in the background (`wait: false`) until its time is up or a `stop-load` step. */
  z.object({ do: z.literal('load'), rate: z.number().int().min(1).max(2_000), seconds: z.number().int().min(1).max(600), mix: z.string().optional(), wait: z.boolean().default(true) }),
  z.object({ do: z.literal('stop-load') }),
  /** `tps scale <pool> <slots>`. */
  z.object({ do: z.literal('scale'), pool: z.string().min(1), slots: z.number().int().min(1) }),
  /** `tps autoscaler enable|disable`. */
  z.object({ do: z.literal('autoscaler'), enabled: z.boolean() }),
  /** Waits until one of the lab's checks (or a probe of its own) holds, submitting `type` jobs meanwhile if given. */
  z.object({ do: z.literal('wait'), check: id.optional(), probe: singleProbe.optional(), seconds: z.number().int().min(1).max(600), submit: z.string().optional() })
    .refine((s) => (s.check === undefined) !== (s.probe === undefined), 'a wait step has either check or probe'),
  /** `tps dlq replay --all`. */
  z.object({ do: z.literal('dlq-replay') }),
  /** `tps autoscaler cap <pool> off`. */
  z.object({ do: z.literal('uncap'), pool: z.string().min(1) }),
  /** Saves a file of the project (a model answer, e.g. labs/solutions/) into the labs state folder, as
   * the learner saves an export there. */
  z.object({ do: z.literal('save'), from: z.string().regex(/^labs\/solutions\/[\w.-]+$/, 'a file under labs/solutions/'), as: learnerFileName }),
  /** Reads the capacity plan (what `tps capacity` prints) and answers every forecast check's figure. */
  z.object({ do: z.literal('plan') }),
  /** `tps config set <parameter> <value>`: a live parameter, as the learner would change it. */
  z.object({ do: z.literal('config'), name: z.string().refine((n) => findParameter(n) !== undefined, 'a live parameter (tps config --help)'), value: z.string().min(1) }),
  /** `tps tune <lever> --values ... --rate ... --duration ...`: a sweep, kept as an event. */
  z.object({
    do: z.literal('tune'), lever: z.string().refine((n) => tunableValues(n) !== undefined, 'a lever tps tune sweeps (tps tune --help)'),
    values: z.array(z.string().min(1)).min(1).max(8), rate: z.number().int().min(1).max(2_000), seconds: z.number().int().min(2).max(600),
    goal: z.enum(tuneGoals).default('p99'),
  }),
  /** Waits until the exam day's failure has begun (the proctor announced it); `seconds` at speed 1. */
  z.object({ do: z.literal('wait-failure'), failure: id, seconds: z.number().int().min(1).max(36_000) }),
  /** `tps exam 3 ack`: every failure begun and not yet acknowledged is detected now. */
  z.object({ do: z.literal('ack') }),
  /** `tps restart <role>`: its processes one after another (a leak's memory freed). */
  z.object({ do: z.literal('restart'), role: z.string().refine((r) => (roleNames as readonly string[]).includes(r) || r.startsWith('$'), 'a role, or a setup choice ($name)') }),
  /** `tps scale <pool> --replicas <n>`. */
  z.object({ do: z.literal('replicas'), pool: z.enum(poolNames), count: z.number().int().min(1).max(8) }),
  /** `tps canary start|promote|rollback <service>`. */
  z.object({
    do: z.literal('canary'), action: z.enum(['start', 'promote', 'rollback']), service: z.enum(canaryServices),
    version: versionName.optional(), weight: z.number().int().min(1).max(100).optional(),
  }).refine((s) => s.action !== 'start' || s.version !== undefined, 'a canary start step names its version'),
]);
const solveStep = z.intersection(solveStepKinds, z.object({ when }));
export type SolveStep = z.infer<typeof solveStep>;

export const historyKinds = ['weekend', 'growth'] as const;
export type HistoryKind = (typeof historyKinds)[number];

export const labSchema = z.object({
  id,
  title: z.string().min(1),
  level: z.number().int().min(1).max(3),
  minutes: z.number().int().min(1).max(600),
  /** Its page, from the project root: what `tps lab start` prints is in it. */
  doc: z.string().regex(/^docs\/labs\/[\w.-]+\.md$/),
  objective: z.string().min(1),
  tasks: z.array(z.string().min(1)).min(1),
  /** The seed's success criteria, which the checks below measure. */
  criteria: z.array(z.string().min(1)).min(1),
  setup: z.object({
    /** Random choices the learner must discover: name -> the options, one picked at start. */
    choose: z.record(id, z.array(id).min(2)).default({}),
    faults: z.array(faultStep).default([]),
    /** `off`: the learner is the autoscaler for this lab (stop gives the control back). */
    autoscaler: z.enum(['on', 'off']).optional(),
    /** Slots per pool at the start (after the autoscaler setting). */
    slots: z.record(z.string(), z.number().int().min(1)).default({}),
    /** Autoscaler caps left in place (`tps autoscaler cap`). */
    caps: z.array(z.object({ pool: z.string().min(1), max: z.number().int().min(1), when })).default([]),
    /** Jobs submitted at the start (e.g. to fail under a fault and fill the DLQ). */
    submit: z.array(z.object({ type: z.string().min(1), count: z.number().int().min(1).max(1_000), when })).default([]),
    /** Dead letters left by a staged history (an exam's weekend): jobs that failed before the lab
     * started, in the DLQ with their failure record, replayable like any entry. */
    deadLetters: z.array(z.object({
      type: z.string().min(1), count: z.number().int().min(1).max(1_000),
      code: z.string().refine(isFailureCode, 'a code of the failure catalogue (docs/errors.md)'), message: z.string().min(1), when,
    })).default([]),
    /** Who the setup's changes are recorded as (audit events, logs); may name a choice: "{oncall}". */
    by: z.string().min(1).optional(),
    /** A history backfilled into Prometheus, when it runs: `weekend`, the exam's weekend
     * (operator/exam/weekend-history.ts) for the choice named `incident`; `growth`, three months
     * of growing load (operator/capacity/growth-history.ts). */
    history: z.enum(historyKinds).optional(),
    /** Live parameters the learner changes in the lab: `tps lab stop` removes their overrides, so
     * the system is as it was (`tps config reset`). */
    resets: z.array(z.string().refine((n) => findParameter(n) !== undefined, 'a live parameter (tps config --help)')).default([]),
    /** Services whose canary the learner runs in the lab: `tps lab stop` rolls back one still
     * running (and stops its process); a promoted version stays, as a deployment does. */
    canaries: z.array(z.enum(canaryServices)).default([]),
    /** An exam day (the Level 3 exam): a load for the whole day and failures at their times, brought
     * by a proctor process `tps lab start` leaves running (operator/exam/proctor.ts). */
    timeline: timelineSchema.optional(),
  }).default({ choose: {}, faults: [], slots: {}, caps: [], submit: [], deadLetters: [], resets: [], canaries: [] }),
  checks: z.array(checkSchema).min(1),
  solve: z.array(solveStep).min(1),
  /** Share of the weights to pass, 0..1. */
  passAt: z.number().min(0).max(1).default(0.8),
});
export type Lab = z.infer<typeof labSchema>;

/** Whether a step or check with this `when` applies to a run with these choices. */
export function applies(condition: Readonly<Record<string, string>> | undefined, choices: Readonly<Record<string, string>>): boolean {
  return Object.entries(condition ?? {}).every(([name, value]) => choices[name] === value);
}

/** Fills "{choice}" with what the setup chose ("{oncall} (on-call)" -> "sam (on-call)"). */
export function fillChoices(text: string, choices: Readonly<Record<string, string>>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => choices[name] ?? whole);
}

// A lab is data: one YAML file in labs/ (beside its page in docs/labs/) says how the lab is set up,
// what the learner does, how each step is checked and weighted, the hints, how to solve it, and
// what to tear down. This schema is the format; `tps lab` refuses a file that does not match it,
// naming the field.
import { z } from 'zod';
import { isFailureCode } from '#platform/dlq/failure-codes.ts';
import { findParameter } from '#platform/params/catalogue.ts';
import { roleNames } from '#platform/roles.ts';

const id = z.string().regex(/^[\w.-]{1,40}$/, 'letters, digits, ".", "_" or "-"');

/** Applies only when the setup chose these values (an exam's incident picks its residue and checks). */
const when = z.record(id, id).optional();

/** A sample selector over the roles' /metrics (or Prometheus): metric{labels} aggregated, compared. */
const metricProbe = z.object({
  kind: z.literal('metric'),
  metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/),
  labels: z.record(z.string(), z.string()).default({}),
  /** How the samples of every role and replica combine. */
  aggregate: z.enum(['sum', 'max', 'min']).default('sum'),
  /** `increase`: the change since the lab started (counters); `value`: the value now; `rate`: per
   * second now (a counter read twice, two seconds apart, as `tps status` does). */
  measure: z.enum(['value', 'increase', 'rate']).default('value'),
  op: z.enum(['>', '>=', '<', '<=', '==']),
  value: z.number(),
  /** The value when no role reports the metric yet (a gauge exported only once set); unset: fails. */
  absent: z.number().optional(),
});

/** Every role of the stack answers /readyz with 200. */
const readyProbe = z.object({ kind: z.literal('ready') });

/** The learner's answer to a question, against the truth the lab's setup chose (`truth`) or one
 * of the answers the lab accepts (`accept`). */
const answerProbe = z.object({
  kind: z.literal('answer'),
  key: id,
  /** The setup choice the answer must equal. */
  truth: id.optional(),
  accept: z.array(id).min(1).optional(),
}).refine((p) => (p.truth === undefined) !== (p.accept === undefined), 'an answer check has either truth (a setup choice) or accept (the right answers)');

/** The learner names the metrics that are abnormal (`abnormal=a,b,c`); the truth is the staged
 * incident's list (operator/exam/weekend-history.ts). Holds with `atLeast` right and at most as
 * many wrong as right. */
const abnormalProbe = z.object({ kind: z.literal('abnormal'), key: id, incident: id, atLeast: z.number().int().min(1).default(2) });

/** The autoscaler is enabled and no pool is capped (tps_control). */
const autoscalerFreeProbe = z.object({ kind: z.literal('autoscaler-free') });

/** A written answer (recommendations): at least this many words. Its content is for a person. */
const textProbe = z.object({ kind: z.literal('text'), key: id, minWords: z.number().int().min(1).default(15) });

/** Another check of the lab has held at some point (it is latched): orders "then" in a lab. */
const heldProbe = z.object({ kind: z.literal('held'), check: id });

/** The learner's reading of a live value (a dashboard panel), checked against the metric now,
 * within a tolerance (relative, 0.2 = 20 %; the value moves while the learner reads it). */
const readingProbe = z.object({
  kind: z.literal('reading'),
  key: id,
  metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/),
  labels: z.record(z.string(), z.string()).default({}),
  aggregate: z.enum(['sum', 'max', 'min']).default('sum'),
  tolerance: z.number().min(0).max(1).default(0.2),
});

const selector = z.object({
  metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/),
  labels: z.record(z.string(), z.string()).default({}),
  aggregate: z.enum(['sum', 'max', 'min']).default('sum'),
});

/** One counter's increase since the start over another's (completed over submitted: did
 * throughput match the load; dead-lettered over submitted: did errors stay low). */
const ratioProbe = z.object({
  kind: z.literal('ratio'),
  of: selector,
  to: selector,
  op: z.enum(['>', '>=', '<', '<=']),
  value: z.number(),
  /** The least the denominator must have risen for the ratio to mean anything. */
  atLeast: z.number().min(1).default(1),
});

/** Audit events on NATS since the lab started (the autoscaler scaling, an operator's change):
 * how many match, or the largest value of a numeric field among them. */
const eventProbe = z.object({
  kind: z.literal('event'),
  subject: z.string().regex(/^tps\.events\.[\w.-]+$/, 'a subject under tps.events.'),
  /** Fields (dotted paths) the event must have, with these values. */
  match: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Compare the largest value of this numeric field (dotted path) instead of the count. */
  field: z.string().optional(),
  /** Only events after another check held: an event check's first matching event, or the moment
   * a latched check of another kind was first seen holding. */
  after: id.optional(),
  op: z.enum(['>', '>=', '<', '<=', '==']),
  value: z.number(),
});

/** A PromQL query against Prometheus when it runs ("{since}": the lab's age, for *_over_time
 * windows), else `else`: the same question asked of the roles' /metrics or the events. */
const promqlProbe = z.object({
  kind: z.literal('promql'),
  query: z.string().min(1),
  op: z.enum(['>', '>=', '<', '<=', '==']),
  value: z.number(),
  else: z.discriminatedUnion('kind', [metricProbe, eventProbe, ratioProbe]).optional(),
});

/** A role's process (any replica) started after the lab did: it crashed or was stopped during the
 * lab and is running again. Read from its own process_start_time_seconds, so it holds whoever
 * restarted it (the supervisor, Docker's restart policy, `docker compose start`). */
const restartedProbe = z.object({ kind: z.literal('restarted'), role: z.string().refine((r) => (roleNames as readonly string[]).includes(r), `a role: ${roleNames.join(', ')}`) });

/** Prometheus answers, and has scraped every target it knows within `freshSeconds`, each up
 * (the dashboards have data again); with `restarted`, it also started after the lab did. */
const prometheusProbe = z.object({ kind: z.literal('prometheus'), restarted: z.boolean().default(false), freshSeconds: z.number().int().min(1).max(600).default(30) });

const singleProbes = [metricProbe, readyProbe, restartedProbe, prometheusProbe, answerProbe, readingProbe, ratioProbe, eventProbe, heldProbe, abnormalProbe, autoscalerFreeProbe, textProbe, promqlProbe] as const;
const singleProbe = z.discriminatedUnion('kind', [...singleProbes]);

/** Every one of these at the same moment ("the queue stays under 80 % while the load runs"). */
const allProbe = z.object({ kind: z.literal('all'), of: z.array(singleProbe).min(2) });

export const probeSchema = z.discriminatedUnion('kind', [...singleProbes, allProbe]);
export type Probe = z.infer<typeof probeSchema>;
export type SingleProbe = z.infer<typeof singleProbe>;

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

/** What `tps lab solve` does, in order. */
const solveStep = z.discriminatedUnion('do', [
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
  /** `tps config set <parameter> <value>`: a live parameter, as the learner would change it. */
  z.object({ do: z.literal('config'), name: z.string().refine((n) => findParameter(n) !== undefined, 'a live parameter (tps config --help)'), value: z.string().min(1) }),
]);
export type SolveStep = z.infer<typeof solveStep>;

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
    /** `weekend`: a history backfilled into Prometheus (operator/exam/weekend-history.ts) for the
     * choice named `incident`, when Prometheus runs. */
    history: z.enum(['weekend']).optional(),
    /** Live parameters the learner changes in the lab: `tps lab stop` removes their overrides, so
     * the system is as it was (`tps config reset`). */
    resets: z.array(z.string().refine((n) => findParameter(n) !== undefined, 'a live parameter (tps config --help)')).default([]),
  }).default({ choose: {}, faults: [], slots: {}, caps: [], submit: [], deadLetters: [], resets: [] }),
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

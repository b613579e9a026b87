// What a lab's check can measure: the typed probes (a metric, an event, an answer, a file the
// learner saved, ...). The lab format (lab-schema.ts) builds its checks from these; each probe's
// evaluation lives beside it in operator/labs/ (probes.ts routes them).
import { z } from 'zod';
import { roleNames } from '#platform/roles.ts';
import { planQuantityNames } from '#operator/capacity/quantities.ts';

export const id = z.string().regex(/^[\w.-]{1,40}$/, 'letters, digits, ".", "_" or "-"');

/** A file name in the labs state folder (.tps/labs/): no folders, no way out of it. */
export const learnerFileName = z.string().regex(/^[\w.-]{1,80}$/, 'a file name in the labs state folder (letters, digits, ".", "_", "-")');

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
  /** Only the samples of this role's processes (every replica): process_* metrics carry no role. */
  role: z.string().refine((r) => (roleNames as readonly string[]).includes(r), `a role: ${roleNames.join(', ')}`).optional(),
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

/** A figure of the learner's capacity plan (`tps lab answer 3.5 load-12m=890`) against the
 * grader's own plan from the same history in Prometheus (operator/capacity/): within `tolerance`
 * (relative) of it; a `conservative` figure may lie above it (up to 1 + 3 x tolerance), never below. */
const forecastProbe = z.object({
  kind: z.literal('forecast'), key: id, quantity: z.enum(planQuantityNames),
  tolerance: z.number().min(0).max(1).default(0.15), conservative: z.boolean().default(false),
});

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
  /** Only events after the exam day's failure of this id began (operator/exam/timeline.ts). */
  since: id.optional(),
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

/** The learner's Grafana dashboard, exported to a file (lab 3.3): its panels (between min and max,
 * of two kinds at least), their queries (our metrics, data in Prometheus now), descriptions, or a
 * link to the traces or logs. */
const dashboardProbe = z.object({
  kind: z.literal('dashboard'), file: learnerFileName, aspect: z.enum(['panels', 'queries', 'descriptions', 'links']),
  min: z.number().int().min(1).default(5), max: z.number().int().min(1).default(10),
});

/** The learner's Prometheus alert rules (a rule file): at least this many alerts, each accepted
 * by Prometheus, with a severity and a summary, each on a metric the dashboard shows. */
const alertRulesProbe = z.object({ kind: z.literal('alert-rules'), file: learnerFileName, dashboard: learnerFileName, atLeast: z.number().int().min(1).default(3) });

/** The grader's own run (lab 3.2): the learner's settings against the lab's starting point under
 * the same load (`rate` jobs/s for `seconds`, shortened by --speed), the metric the learner named
 * (answer `key`: p99, p50, throughput, errors or cpu) better by `atLeast` (0.1: 10 %), the
 * failed share of attempts not raised. operator/tune/compare.ts runs it. */
const tunedProbe = z.object({
  kind: z.literal('tuned'), key: id,
  rate: z.number().int().min(1).max(2_000), seconds: z.number().int().min(3).max(600),
  atLeast: z.number().min(0).max(10).default(0.1),
});

const singleProbes = [tunedProbe, metricProbe, readyProbe, restartedProbe, prometheusProbe, dashboardProbe, alertRulesProbe, answerProbe, readingProbe, ratioProbe, eventProbe, heldProbe, abnormalProbe, autoscalerFreeProbe, textProbe, promqlProbe, forecastProbe] as const;
export const singleProbe = z.discriminatedUnion('kind', [...singleProbes]);

/** One of these (a failure has several fixes: a cache, a fallback or a longer timeout). */
const anyProbe = z.object({ kind: z.literal('any'), of: z.array(singleProbe).min(2) });
export type AnyProbe = z.infer<typeof anyProbe>;

/** Every one of these at the same moment ("the queue stays under 80 % while the load runs"); a
 * part may be an `any` ("the cache or the fallback kept, and a written answer"). */
const allProbe = z.object({ kind: z.literal('all'), of: z.array(z.union([singleProbe, anyProbe])).min(2) });

export const probeSchema = z.discriminatedUnion('kind', [...singleProbes, allProbe, anyProbe]);
export type Probe = z.infer<typeof probeSchema>;
export type SingleProbe = z.infer<typeof singleProbe>;

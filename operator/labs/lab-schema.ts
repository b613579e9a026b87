// A lab is data: one YAML file in labs/ (beside its page in docs/labs/) says how the lab is set up,
// what the learner does, how each step is checked and weighted, the hints, how to solve it, and
// what to tear down. This schema is the format; `tps lab` refuses a file that does not match it,
// naming the field.
import { z } from 'zod';

const id = z.string().regex(/^[\w.-]{1,40}$/, 'letters, digits, ".", "_" or "-"');

/** A sample selector over the roles' /metrics (or Prometheus): metric{labels} aggregated, compared. */
const metricProbe = z.object({
  kind: z.literal('metric'),
  metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/),
  labels: z.record(z.string(), z.string()).default({}),
  /** How the samples of every role and replica combine. */
  aggregate: z.enum(['sum', 'max', 'min']).default('sum'),
  /** `increase`: the change since the lab started (counters); `value`: the value now. */
  measure: z.enum(['value', 'increase']).default('value'),
  op: z.enum(['>', '>=', '<', '<=', '==']),
  value: z.number(),
  /** The value when no role reports the metric yet (a gauge exported only once set); unset: fails. */
  absent: z.number().optional(),
});

/** Every role of the stack answers /readyz with 200. */
const readyProbe = z.object({ kind: z.literal('ready') });

/** The learner's answer to a question, against the truth the lab's setup chose. */
const answerProbe = z.object({
  kind: z.literal('answer'),
  key: id,
  /** The setup choice the answer must equal. */
  truth: id,
});

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

export const probeSchema = z.discriminatedUnion('kind', [metricProbe, readyProbe, answerProbe, readingProbe]);
export type Probe = z.infer<typeof probeSchema>;

const checkSchema = z.object({
  id,
  title: z.string().min(1),
  weight: z.number().positive().default(1),
  probe: probeSchema,
  /** The ladder `tps lab hint` climbs: a nudge, where to look, the answer. */
  hints: z.array(z.string().min(1)).min(1).max(3),
});
export type Check = z.infer<typeof checkSchema>;

/** A fault the setup sets; `target` may name a choice (`$choice`) the lab made at random. */
const faultStep = z.object({ target: z.string().min(1), fault: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) });

/** What `tps lab solve` does, in order. */
const solveStep = z.discriminatedUnion('do', [
  z.object({ do: z.literal('submit'), type: z.string().min(1), count: z.number().int().min(1).max(10_000).default(1) }),
  z.object({ do: z.literal('answer'), key: id, from: id }),
  /** Answers every `reading` question from the live metrics, as a learner reading the panels would. */
  z.object({ do: z.literal('read') }),
  /** What the learner would do with `make chaos` / `make chaos-stop`. */
  z.object({ do: z.literal('fault'), target: z.string().min(1), fault: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }),
  z.object({ do: z.literal('clear'), target: z.string().min(1) }),
  /** Waits until one of the lab's checks holds, submitting `type` jobs meanwhile if given. */
  z.object({ do: z.literal('wait'), check: id, seconds: z.number().int().min(1).max(600), submit: z.string().optional() }),
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
  }).default({ choose: {}, faults: [] }),
  checks: z.array(checkSchema).min(1),
  solve: z.array(solveStep).min(1),
  /** Share of the weights to pass, 0..1. */
  passAt: z.number().min(0).max(1).default(0.8),
});
export type Lab = z.infer<typeof labSchema>;

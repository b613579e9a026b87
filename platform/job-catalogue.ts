// Job types are data: each names its pool, how deep it goes into the service chain, and the work
// it costs at each hop. The ingress validates against it, workers route by it, the chain
// simulates work from it. A type is named `<pool>.<name>`; its subject is `jobs.<pool>.<name>`.
import { z } from 'zod';
import type { Pool } from './pools.ts';

export const chainServices = ['service-a', 'service-b', 'service-c'] as const;
export type ChainService = (typeof chainServices)[number];

/** Simulated work at one hop: wall-clock latency (median, jitter) and CPU time. */
export type WorkProfile = { readonly latencyMs: number; readonly jitterMs: number; readonly cpuMs: number };

export type JobType = {
  readonly name: string;
  readonly pool: Pool;
  readonly description: string;
  /** How many services of the chain the job passes through: 1 = a, 2 = a->b, 3 = a->b->c. */
  readonly depth: 1 | 2 | 3;
  readonly work: Readonly<Partial<Record<ChainService, WorkProfile>>>;
  /** What the service chain accepts as payload; anything else is a poison job (422, then the DLQ). */
  readonly payload: z.ZodType;
};

const work = (latencyMs: number, jitterMs: number, cpuMs = 0.1): WorkProfile => ({ latencyMs, jitterMs, cpuMs });

export const jobCatalogue: Readonly<Record<string, JobType>> = {
  'fast.echo': {
    name: 'fast.echo',
    pool: 'fast',
    description: 'Answered by service-a alone (~5 ms).',
    depth: 1,
    work: { 'service-a': work(5, 2) },
    payload: z.looseObject({}),
  },
  'fast.lookup': {
    name: 'fast.lookup',
    pool: 'fast',
    description: 'service-a then service-b (~15 ms).',
    depth: 2,
    work: { 'service-a': work(3, 1), 'service-b': work(12, 4) },
    payload: z.looseObject({ key: z.string().min(1).max(128).optional() }),
  },
  'slow.report': {
    name: 'slow.report',
    pool: 'slow',
    description: 'The whole chain; service-c does the heavy part (~300 ms).',
    depth: 3,
    work: { 'service-a': work(3, 1), 'service-b': work(10, 3), 'service-c': work(300, 60, 2) },
    payload: z.looseObject({ rows: z.number().int().min(1).max(1_000_000).optional() }),
  },
  'slow.export': {
    name: 'slow.export',
    pool: 'slow',
    description: 'The whole chain; service-c works for about a second.',
    depth: 3,
    work: { 'service-a': work(3, 1), 'service-b': work(15, 5), 'service-c': work(1_000, 200, 5) },
    payload: z.looseObject({ format: z.enum(['csv', 'json']).optional() }),
  },
  // New job types go above this line.
};

export const jobTypeNames = Object.keys(jobCatalogue);

export function findJobType(name: string): JobType | undefined {
  return Object.hasOwn(jobCatalogue, name) ? jobCatalogue[name] : undefined;
}

/** The services a job of this type visits, in order. */
export function route(type: JobType): readonly ChainService[] {
  return chainServices.slice(0, type.depth);
}

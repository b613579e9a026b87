// Canary deployment (lab 3.6, handbook 7.4), the one home of its contract. A chain service that
// has a caller in the chain (service-b, called by service-a; service-c, called by service-b) can
// run a second version beside the first: the canary, its own process (natively the supervisor's
// `<service>-canary` instance; in compose the `<service>-canary` container) with its own
// SERVICE_VERSION and its own chaos target. The caller splits its calls by the weight kept in
// tps_control (`canary.<service>`), labels them by track and version, and rolls the canary back
// by itself when it breaks the limits the key carries. `tps canary` writes the key.
import { z } from 'zod';
import type { ChainService } from './job-catalogue.ts';
import { defaultPorts } from './ports.ts';

export const canaryServices = ['service-b', 'service-c'] as const;
export type CanaryService = (typeof canaryServices)[number];
export const isCanaryService = (name: string): name is CanaryService => (canaryServices as readonly string[]).includes(name);

/** Who calls each canaried service, and so splits its traffic. */
export const canaryCaller: Readonly<Record<CanaryService, ChainService>> = { 'service-b': 'service-a', 'service-c': 'service-b' };

/** The canary's process (native instance name, compose service) and chaos target. */
export const canaryName = (service: CanaryService) => `${service}-canary` as const;
export const canaryTargets = canaryServices.map(canaryName);
export type CanaryTarget = (typeof canaryTargets)[number];

/** The canary listens 100 above its service (8182, 8183: platform/ports.ts), moved by TPS_PORT_OFFSET like the rest. */
export const canaryPort = (service: CanaryService) => defaultPorts[canaryName(service)];

/** The rollout's steps: `tps canary promote` moves to the next one; past 100 % the new version is the stable one. */
export const canarySteps = [10, 50, 100] as const;

/** What a running process is: which version, and whether it is its service's canary. */
export const deploymentTracks = ['stable', 'canary'] as const;
export type DeploymentTrack = (typeof deploymentTracks)[number];

export const versionName = z.string().regex(/^[\w.-]{1,32}$/, 'a version name: letters, digits, ".", "_" or "-", at most 32');

export const canaryStates = ['running', 'promoted', 'rolled-back'] as const;

/** The value of `canary.<service>` in tps_control. */
export const canaryValue = z.object({
  state: z.enum(canaryStates),
  /** The canary's version and the stable one's when it started. */
  version: versionName,
  stable: versionName,
  /** Percent of the caller's calls that go to the canary (0 once promoted or rolled back). */
  weight: z.number().int().min(0).max(100),
  /** Where the caller reaches the canary. */
  url: z.string().url(),
  /** The canary's SLO against the stable version: its failed share or p99 worse than the stable version's by more than either, over at least `minCalls` calls in the last `windowMs`, and the caller rolls it back. */
  maxErrorPercent: z.number().min(0).max(100),
  maxP99Ms: z.number().int().min(1).max(600_000),
  minCalls: z.number().int().min(1).max(100_000),
  windowMs: z.number().int().min(1_000).max(3_600_000),
  by: z.string().min(1),
  at: z.iso.datetime(),
  reason: z.string().optional(),
  /** True when the caller rolled the canary back by itself. */
  auto: z.boolean().optional(),
});
export type CanaryValue = z.infer<typeof canaryValue>;

/** The limits a canary starts with unless `tps canary start` is told others. */
export const canaryDefaults = { weight: 10, maxErrorPercent: 5, maxP99Ms: 2_000, minCalls: 20, windowMs: 60_000 } as const;

export const canaryKey = (service: CanaryService) => `canary.${service}`;

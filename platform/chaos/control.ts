// The one way operators and scenarios change faults: process faults go to the `tps_chaos` bucket,
// system faults (nats_down, monitoring_down, autoscaler_down) to whoever runs those systems (the
// native supervisor, or docker compose). Callers never need to know which is which.
import type { ActiveFault } from './catalogue.ts';

export type ChaosRequest = { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number };

export type ChaosControl = {
  /** Validates (ChaosInputError on bad input) and starts a fault; it expires by itself. */
  set(request: ChaosRequest, by: string): Promise<ActiveFault>;
  /** Clears one fault, or every fault of a target; returns what was cleared. */
  clear(target: string, fault?: string, by?: string): Promise<ActiveFault[]>;
  list(): Promise<ActiveFault[]>;
  /** Clears every fault and restarts whatever a system fault stopped. */
  reset(by: string): Promise<ActiveFault[]>;
  close(): Promise<void>;
};

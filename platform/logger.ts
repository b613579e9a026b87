// pino JSON logs, one logger per process, with the service name and instance on every line, and
// the trace and span id of the active span when there is one (logs and traces correlate).
import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';
import { traceCorrelation } from './telemetry/context.ts';

export type { Logger };

export function createLogger(service: string, config: Pick<Config, 'log' | 'instanceId'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.log.level,
      base: { service, instance: config.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceCorrelation,
    },
    destination,
  );
}

// tps_jobs_submitted_total: one count per job admitted onto its queue (a job JetStream stored, not
// a duplicate), by the job's pool and type, whichever way it came: POST /jobs or a DLQ replay.
import { jobCatalogue } from '../job-catalogue.ts';
import { counter, metrics, type Counter, type MetricsRegistry } from '../metrics.ts';

export type CountSubmitted = (pool: string, type: string) => void;

export function countSubmitted(registry: MetricsRegistry): CountSubmitted {
  // One family per registry, shared by whatever admits jobs in the process.
  const family = (registry.getSingleMetric(metrics.jobsSubmitted.name) as Counter<'pool' | 'type'> | undefined)
    // Every catalogue series exists from the start at 0 (a healthy board reads 0, not "No data").
    ?? counter(registry, metrics.jobsSubmitted, Object.values(jobCatalogue).map((t) => ({ pool: t.pool, type: t.name })));
  const byType = new Map<string, () => void>();
  return (pool, type) => {
    // Job types come from the catalogue, so there are few of them to bind.
    let count = byType.get(type);
    if (count === undefined) byType.set(type, (count = family.bind({ pool, type })));
    count();
  };
}

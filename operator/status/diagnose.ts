// The handbook's decision trees (sections 3.2, 4 and 5) over a snapshot: what is wrong, how
// severe (section 5.1 triage), why the handbook says so, and what to do next.
import type { PoolView, Snapshot } from './snapshot.ts';

export const severities = ['critical', 'high', 'medium', 'info'] as const;
export type Severity = (typeof severities)[number];
export type Finding = { severity: Severity; subject: string; what: string; why: string; next: string[] };

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 0)}%`;

function queueFindings(p: PoolView): Finding[] {
  const out: Finding[] = [];
  const subject = `${p.pool} pool`;
  const busy = p.workers.utilization;
  if (p.queue.capacity > 0 && p.queue.fill >= 1) {
    out.push({
      severity: p.errorRate > 0.01 ? 'critical' : 'high',
      subject,
      what: `queue full (${p.queue.depth}/${p.queue.capacity}); new ${p.pool} jobs are refused`,
      why: p.errorRate > 0.01 ? 'Queue 100% with a high error rate is a cascading failure (5.1).' : 'A full queue rejects new work (scenario 4.1).',
      next: busy >= 0.95
        ? [`workers are ${pct(busy)} busy: scale them, e.g. \`tps scale ${p.pool} ${Math.max(1, Math.ceil(p.workers.slots * 1.5 / Math.max(1, p.workers.instances)))}\``, 'or reduce incoming load']
        : [`workers are only ${pct(busy)} busy: something blocks them; check \`tps breaker list\` and the worker logs`],
    });
  } else if (p.queue.capacity > 0 && p.queue.fill >= 0.8) {
    out.push({ severity: 'medium', subject, what: `queue at ${pct(p.queue.fill)} of capacity`, why: 'Consistently above 80% means the system is near capacity (panel 2).', next: ['plan to scale before it fills', `watch it: \`tps status --watch\``] });
  }
  if (busy >= 0.99 && p.queue.pending > 0) {
    out.push({ severity: 'high', subject, what: 'workers at 100%, jobs waiting', why: 'At 100% utilization the pool is at capacity (panel 3, metric 5).', next: [`scale workers: \`tps scale ${p.pool} <slots>\``] });
  } else if (p.queue.pending > 0 && busy < 0.2 && p.workers.slots > 0) {
    out.push({ severity: 'high', subject, what: `jobs waiting but workers ${pct(busy)} busy`, why: 'Queue high and workers idle: something is broken (3.2).', next: ['check breakers: `tps breaker list`', 'check the worker log for errors'] });
  } else if (p.workers.slots > 0 && busy <= 0.2 && p.queue.fill < 0.3 && p.incomingPerSec > 0) {
    out.push({ severity: 'info', subject, what: `workers only ${pct(busy)} busy`, why: 'Below 20% the pool is over-provisioned (panel 3).', next: ['fewer slots would do; the autoscaler lowers them by itself'] });
  }
  return out;
}

function flowFindings(p: PoolView): Finding[] {
  const out: Finding[] = [];
  const subject = `${p.pool} pool`;
  const brokerRefusals = p.rejectedPerSec.broker_unavailable ?? 0;
  if (brokerRefusals > 0) {
    out.push({
      severity: 'critical', subject, what: `new ${p.pool} jobs refused: the broker stores none (${brokerRefusals.toFixed(1)}/s)`,
      why: 'The ingress answers 503 when NATS is down, or answers but cannot write (its disk full: BROKER_STORAGE_FAILED); nothing refused was accepted, so nothing is lost, but no work comes in (5.1: system down).',
      next: ['is NATS up? `tps status`; the ingress log says which ("broker unavailable" or the store\'s error)', 'a full disk: free room where NATS keeps its store (`.tps/nats` natively, the `nats-data` volume in compose); jobs are taken again by themselves'],
    });
  }
  if (p.attemptsPerSec > 0) {
    const r = p.errorRate;
    const severity: Severity | undefined = r >= 0.999 ? 'critical' : r > 0.05 ? 'high' : r > 0.005 ? 'medium' : r > 0.001 ? 'info' : undefined;
    if (severity) out.push({ severity, subject, what: `error rate ${pct(r)} of job attempts`, why: 'Normal is below 0.1%; 0.5-5% investigate, above 5% significant, 100% everything fails (5.1).', next: ['find the failing step: `tps dlq list`, the worker log, a failed job\'s trace', 'check breakers and chaos faults: `tps breaker list`, `tps chaos list`'] });
  }
  if (p.processing.count >= 20 && p.processing.p50 > 0 && p.processing.p99 > 10 * p.processing.p50) {
    out.push({ severity: 'medium', subject, what: `p99 ${ms(p.processing.p99)} is more than 10x p50 ${ms(p.processing.p50)}`, why: 'p99 above 10x p50 means slow outliers (panel 5, metric 2).', next: ['open the slowest traces in Jaeger and find the slow span (lab 2.6)'] });
  }
  if (p.incomingPerSec > 1 && p.completedPerSec < 0.8 * p.incomingPerSec && p.queue.pending > 0) {
    out.push({ severity: 'medium', subject, what: `throughput ${p.completedPerSec.toFixed(1)}/s below incoming ${p.incomingPerSec.toFixed(1)}/s`, why: 'Throughput below incoming load means work piles up (panel 6).', next: ['scale the pool or find what slows it (latency, breakers)'] });
  }
  if (p.dlq.addedPerSec > 0) {
    out.push({ severity: 'medium', subject, what: `dead-letter queue growing (${p.dlq.depth} entries)`, why: 'A growing DLQ means something is broken (metric 6).', next: ['see why: `tps dlq list`', 'fix the cause, then `tps dlq replay`'] });
  }
  if (p.dlq.capacity > 0 && p.dlq.depth >= 0.8 * p.dlq.capacity) {
    out.push({ severity: 'high', subject, what: `DLQ at ${pct(p.dlq.depth / p.dlq.capacity)} of capacity`, why: 'A full DLQ cannot take more failures; jobs then stay queued.', next: ['replay or purge: `tps dlq list`'] });
  }
  if (p.autoscaler.bottleneck) {
    out.push({ severity: 'medium', subject, what: 'more slots stopped raising throughput', why: 'Scaling does not help when the bottleneck is downstream (scenario 4.5).', next: ['look downstream: service chain dashboard, `tps breaker list`', 'cap the pool: `tps scale`'] });
  }
  return out;
}

const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;

export function diagnose(s: Snapshot): Finding[] {
  const findings: Finding[] = [];
  for (const r of s.roles.filter((x) => !x.up)) {
    findings.push({ severity: 'critical', subject: r.role, what: `${r.role} does not answer (${r.error ?? 'down'})`, why: 'A role that is down stops its part of the flow.', next: ['`tps status` after a few seconds (the supervisor restarts crashed roles)', `its log: \`.tps/logs/${r.role}.log\` natively (under TPS_STATE_DIR when set), \`docker-compose logs ${r.role}\` in compose`] });
  }
  for (const c of s.circuits) {
    if (c.state === 'open') findings.push({ severity: 'high', subject: c.name, what: `circuit ${c.name} is open`, why: 'An open circuit means the downstream service is failing or too slow; over 5 minutes it is critical (5.1, scenario 4.2).', next: [`check ${c.name.split('->')[1]}: its log and the service chain dashboard`, 'when it is healthy again the breaker half-opens and closes by itself; `tps breaker close` resets one stuck open'] });
    else if (c.state === 'half_open') findings.push({ severity: 'medium', subject: c.name, what: `circuit ${c.name} is half-open (testing recovery)`, why: 'Half-open lets one probe through; do not interrupt it (scenario 4.2).', next: ['wait: it closes if the probe succeeds'] });
    else if (c.opensInInterval > 0) findings.push({ severity: 'medium', subject: c.name, what: `circuit ${c.name} opened and closed again`, why: 'A breaker that keeps opening and closing means an unstable downstream (6.1).', next: ['look at the downstream service\'s error rate'] });
  }
  for (const p of s.pools) findings.push(...queueFindings(p), ...flowFindings(p));
  for (const r of s.roles.filter((x) => x.up && x.cpuPercent > 90)) {
    findings.push({ severity: 'medium', subject: r.role, what: `${r.role} uses ${r.cpuPercent.toFixed(0)}% CPU`, why: 'At 100% CPU the role is CPU-bound (panel 7).', next: ['optimise or add capacity; check for a cpu_burn fault: `tps chaos list`'] });
  }
  if (s.faults.length > 0) {
    findings.push({ severity: 'info', subject: 'chaos', what: `faults active: ${s.faults.map((f) => `${f.fault} on ${f.target}`).join(', ')}`, why: 'Injected on purpose; they expire by themselves.', next: ['clear them: `make chaos-stop`'] });
  }
  return findings.sort((a, b) => severities.indexOf(a.severity) - severities.indexOf(b.severity));
}

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '#platform/config-types.ts';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { nativeTargets } from '#operator/status/collect.ts';
import { runLoad } from '#loadgen/generator.ts';
import { defaultLedgerPath, openLedger } from '#loadgen/ledger.ts';
import { defaultMix, formatMix, MixError, parseMix } from '#loadgen/mix.ts';
import { progressWriter } from '#loadgen/progress.ts';
import { formatSummary, summaryJson } from '#loadgen/summary.ts';
import { checkTarget, probeTarget, TargetError } from '#loadgen/target.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { interruptible } from '../interrupts.ts';

export const limits = { rate: { min: 1, max: 20_000 }, durationMs: 3_600_000, jobs: 10_000_000, cap: { min: 1, max: 10_000 } } as const;

export const help = `
usage: tps load [--rate N] [--duration D] [--mix TYPE=W,...] [--url URL] [options]

Open-model load on the ingress (POST /jobs): arrivals leave on a fixed schedule whatever the
server does, and latency is measured from each arrival's scheduled time (no coordinated omission).
When --concurrency-cap requests are in flight, an arrival is dropped and counted, never delayed.
A live line on stderr each second; a k6-like summary at the end; a ledger of the accepted jobs
for \`tps audit\`.

  --rate N               arrivals per second, ${limits.rate.min}-${limits.rate.max} (default 100)
  --duration D           how long: 30s, 2m, 1h at most (default 2m)
  --mix TYPE=W,...       job types and weights (default ${defaultMix})
  --url URL              the ingress (default: the one \`tps up\` runs, else http://127.0.0.1:8080)
  --allow-remote         allow a --url that is not on this machine (loopback only by default)
  --max-jobs N           stop after N arrivals (at most ${limits.jobs}; rate x duration must fit)
  --concurrency-cap N    requests in flight at most, ${limits.cap.min}-${limits.cap.max} (default 1000)
  --ledger FILE          where to write the ledger (default .tps/load/ledger-<time>.jsonl)
  --no-ledger            write no ledger
  --json FILE|-          also write the summary as JSON to FILE, or to stdout with - (the text
                         summary then goes to stderr)

Exit status: 0 when the run completes, 1 when the ingress is unreachable at the start, 2 for bad
flags; 130 when stopped with Ctrl-C, 143 with SIGTERM: the arrivals end, the answers in flight
are awaited (Ctrl-C again cuts them off), and the summary of what ran is still printed, the ledger
holding every job accepted.

Examples:
  tps load --rate 500 --duration 2m
  tps load --rate 50 --duration 30s --mix fast.echo=1 --json result.json
  tps load --rate 200 --duration 1m --mix slow.report=1 --concurrency-cap 100
`;

const flags = {
  rate: { type: 'string' }, duration: { type: 'string' }, mix: { type: 'string' }, url: { type: 'string' },
  'allow-remote': { type: 'boolean' }, 'max-jobs': { type: 'string' }, 'concurrency-cap': { type: 'string' },
  ledger: { type: 'string' }, 'no-ledger': { type: 'boolean' }, json: { type: 'string' },
} as const;

const wholeNumber = (name: string, min: number, max: number) => z.string()
  .regex(/^\d+$/, `expected a whole number of ${name}`).transform(Number)
  .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const flagSchema = z.object({
  rate: wholeNumber('arrivals per second', limits.rate.min, limits.rate.max).default(100),
  duration: z.string().default('2m').transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < 1_000) ctx.addIssue({ code: 'custom', message: `expected a duration of at least 1s such as 30s, 2m, 1h; got "${value}"` });
    else if (ms > limits.durationMs) ctx.addIssue({ code: 'custom', message: `at most 1h, got "${value}"` });
    return ms ?? 0;
  }),
  mix: z.string().default(defaultMix),
  url: z.string().optional(),
  'allow-remote': z.boolean().default(false),
  'max-jobs': wholeNumber('jobs', 1, limits.jobs).optional(),
  'concurrency-cap': wholeNumber('requests', limits.cap.min, limits.cap.max).default(1_000),
  ledger: z.string().min(1).optional(),
  'no-ledger': z.boolean().default(false),
  json: z.string().min(1).optional(),
});

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, flags, flagSchema, { positionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  let mix;
  try { mix = parseMix(v.mix); } catch (err) { throw err instanceof MixError ? new UsageError(`--mix: ${err.message}`) : err; }
  if (v.ledger && v['no-ledger']) throw new UsageError('--ledger and --no-ledger together: pick one');
  const planned = Math.floor((v.rate * v.duration) / 1000);
  if (planned > limits.jobs && v['max-jobs'] === undefined) throw new UsageError(`${v.rate}/s for ${v.duration / 1000}s is ${planned} jobs, more than ${limits.jobs}; lower --rate or --duration, or cap with --max-jobs`);
  const config = loadConfig();
  let origin: string;
  const running = nativeTargets(config.stateDir).find((t) => t.role === 'ingress')?.url;
  // TPS_INGRESS_URL (the compose tools container sets it) names the stack's own ingress, so it
  // passes the loopback check that guards against loading someone else's server by mistake.
  const configured = v.url === undefined && running === undefined ? config.operator.ingressUrl : undefined;
  try { origin = checkTarget(v.url ?? running ?? configured ?? `http://127.0.0.1:${8080 + config.http.portOffset}`, v['allow-remote'] || configured !== undefined); } catch (err) {
    throw err instanceof TargetError ? new UsageError(err.message) : err;
  }
  const notReady = await probeTarget(origin).catch((err: unknown) => { throw err instanceof TargetError ? new CommandError(err.message) : err; });
  if (notReady) console.error(`tps load: warning: ${notReady}; loading it anyway`);

  const ledgerFile = v['no-ledger'] ? undefined : path.resolve(v.ledger ?? defaultLedgerPath(path.join(stateDir(config.stateDir), 'load')));
  const ledger = ledgerFile ? openLedger(ledgerFile) : undefined;
  const total = Math.min(planned, v['max-jobs'] ?? Infinity);
  console.error(`tps load: ${v.rate}/s for ${v.duration / 1000}s (${total} arrivals), mix ${formatMix(mix)}, in flight at most ${v['concurrency-cap']} -> ${origin}`);
  if (ledgerFile) console.error(`tps load: ledger ${ledgerFile}`);

  // Stopped early (cli/interrupts.ts), the arrivals end and the answers in flight are awaited, so
  // every job the ingress accepted reaches the ledger; asked again, they are cut off.
  const cut = new AbortController();
  const interrupt = interruptible({ again: () => cut.abort() });
  const progress = progressWriter(process.stderr);
  try {
    const result = await runLoad({
      url: origin, rate: v.rate, durationMs: v.duration, mix, concurrencyCap: v['concurrency-cap'], stop: interrupt.signal, signal: cut.signal,
      ...(v['max-jobs'] !== undefined ? { maxJobs: v['max-jobs'] } : {}),
      ...(ledger ? { onAccepted: (job) => ledger.write(job) } : {}),
      onProgress: (p) => progress.show(p),
    });
    progress.end();
    await ledger?.close();
    const text = formatSummary(result, ledgerFile);
    if (v.json === '-') {
      console.error(text);
      console.log(JSON.stringify(summaryJson(result, ledgerFile), null, 2));
    } else {
      console.log(text);
      if (v.json) writeFileSync(v.json, `${JSON.stringify(summaryJson(result, ledgerFile), null, 2)}\n`);
    }
    return interrupt.status();
  } finally {
    interrupt.dispose();
  }
}

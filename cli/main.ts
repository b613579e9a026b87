// `tps`: the operator command. Each command lives in its own module, loaded only when used, so
// `tps status` does not pay for Fastify and `tps run ingress` does not pay for the CLI tables.
import { stopWhenOutputCloses } from './interrupts.ts';
import { reportError } from './output.ts';

// `helpFor` lets a command with subcommands answer `--help` for the subcommand given.
type CommandModule = { help: string; helpFor?(argv: string[]): Promise<string | undefined>; main(argv: string[]): Promise<number> };
type CommandEntry = { summary: string; load: () => Promise<CommandModule> };

export const commands: Record<string, CommandEntry> = {
  up: { summary: 'Start the whole system natively (NATS, roles, monitoring) in the background', load: () => import('./commands/up.ts') },
  down: { summary: 'Stop everything `tps up` started', load: () => import('./commands/down.ts') },
  status: { summary: 'The handbook dashboard in the terminal (breakers, queues, workers, errors, latency, ...)', load: () => import('./commands/status.ts') },
  diagnose: { summary: 'The handbook decision trees over live metrics: what is wrong and what to do', load: () => import('./commands/diagnose.ts') },
  provision: { summary: 'Create or update the NATS streams, consumers and buckets', load: () => import('./commands/provision.ts') },
  run: { summary: 'Run one role in the foreground (ingress, worker-fast, service-a, ...)', load: () => import('./commands/run.ts') },
  supervise: { summary: 'Run the native supervisor in the foreground (what `tps up` starts)', load: () => import('./commands/supervise.ts') },
  scale: { summary: 'Set the slots of a worker pool live (every replica applies it), or its worker processes (--replicas)', load: () => import('./commands/scale.ts') },
  restart: { summary: 'Restart a role natively, one process after another, each drained and ready again (frees a leak)', load: () => import('./commands/restart.ts') },
  autoscaler: { summary: 'Autoscaler status, enable, disable, cap', load: () => import('./commands/autoscaler.ts') },
  config: { summary: 'Live parameters: get, set, reset the tunables the running roles apply within a second (breakers, timeouts, autoscaler)', load: () => import('./commands/config.ts') },
  canary: { summary: 'Canary deployment of service-b or service-c: start, status, promote, rollback (lab 3.6)', load: () => import('./commands/canary.ts') },
  tune: { summary: 'Measure a live parameter: a baseline and each value under the same load, one table (lab 3.2)', load: () => import('./commands/tune.ts') },
  breaker: { summary: 'List circuit breakers; force one open, or close it back to automatic', load: () => import('./commands/breaker.ts') },
  chaos: { summary: 'Break things on purpose: set, clear, list, reset faults (each expires), the catalogue, run scenarios', load: () => import('./commands/chaos.ts') },
  load: { summary: 'Open-model load on the ingress: fixed arrival rate, live progress, summary, ledger', load: () => import('./commands/load.ts') },
  events: { summary: 'The audit trail: who changed what (faults, parameters, scaling, replays), from the EVENTS stream', load: () => import('./commands/events.ts') },
  audit: { summary: 'From a load ledger: every accepted job completed, dead-lettered, in flight or lost', load: () => import('./commands/audit.ts') },
  capacity: { summary: 'A capacity plan from the history in Prometheus: load at 3, 6, 12 months, workers, queues, CPU, memory, cost (lab 3.5)', load: () => import('./commands/capacity.ts') },
  lab: { summary: 'The certification labs: list, start, status, hint, answer, check, solve, report, stop', load: () => import('./commands/lab.ts') },
  exam: { summary: 'The practical exams: tps exam 2 stages "Monday morning", tps exam 3 runs "Friday before a holiday"; both graded', load: () => import('./commands/exam.ts') },
  quiz: { summary: 'The Level 1 self-assessment: 20 questions from the handbook, 80 % to pass', load: () => import('./commands/quiz.ts') },
  cert: { summary: 'Which certification levels you have passed (quiz, labs)', load: () => import('./commands/cert.ts') },
  dlq: { summary: 'Dead-letter queue: list, show, replay (rate-limited, dry run), purge', load: () => import('./commands/dlq.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: tps <command> [options]',
    '',
    'TPS Lab operator command. Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tps <command> --help` for the options of a command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    console.error(`tps: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(((await command.helpFor?.(rest)) ?? command.help).trim());
    return 0;
  }
  return command.main(rest);
}

stopWhenOutputCloses();
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.exitCode = reportError(err); },
);

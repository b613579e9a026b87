import { z } from 'zod';
import { nativeTargets, parseTargets } from '#operator/status/collect.ts';
import { parametersInForce, type InForce } from '#operator/status/parameters-in-force.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import { loadConfig } from '#platform/config.ts';
import { openControlStore } from '#platform/control/store.ts';
import { findParameter, parameterCatalogue, parameterNames, parseParameterValue, show, type ParameterDef } from '#platform/params/catalogue.ts';
import { parameterOperations, type ParameterView } from '#platform/params/operations.ts';
import { UsageError, parseFlags } from '../output.ts';
import { findPoolLever, poolLeverCommand, poolLeverHelp, poolLeverNames, poolLeverViews, type PoolLever } from '../pool-levers.ts';
import { operator, table, withNats } from '../session.ts';

export const help = `
usage: tps config get [<parameter>] [--json]
       tps config set <parameter> <value> [--reason "..."] [--json]
       tps config reset <parameter>|--all [--json]

Live parameters: tunables the running roles apply within a second, without a restart (lab 3.2).
Each starts as its environment variable says (read when a role starts); \`set\` overrides it for
every process that applies it, now and when started later; \`reset\` removes the override and each
process goes back to its own start-up value. Every change is an audit event (who, from, to, why).
\`get\` shows each parameter's override and the value each running process reports in force
(tps_config_parameter on its /metrics).

Parameters:
${parameterCatalogue.map((p) => `  ${p.name.padEnd(28)} ${range(p).padEnd(18)} ${p.env}: ${p.description}; ${p.appliesTo}`).join('\n')}

Durations take 500, 500ms, 2s, 1m.

Pool levers: the same get/set/reset, carried out by the command that owns each (its checks, its
audit event): \`set\` runs it, \`reset\` puts the start-up value back (\`reset --all\` leaves them).
${poolLeverHelp}
A queue's size is a stream setting: FAST_QUEUE_CAPACITY / SLOW_QUEUE_CAPACITY, then \`tps provision\`
(it refuses a size below what the queue holds, before changing anything).

Examples:
  tps config set breaker.error-percent 30 --reason "open sooner while service-c is flaky"
  tps config set timeout.service-c 1500ms
  tps config get breaker.error-percent
  tps config set pool.slow.slots 24
  tps config reset --all
`;

function range(p: ParameterDef): string {
  return `${show(p, p.min)}..${show(p, p.max)}`;
}

const subcommands = ['get', 'set', 'reset'] as const;

function parameter(name: string | undefined, usage: string): ParameterDef {
  if (!name) throw new UsageError(`which parameter? ${usage}; parameters are ${parameterNames.join(', ')}`);
  const p = findParameter(name);
  if (!p) throw new UsageError(`unknown parameter "${name}"; parameters are ${[...parameterNames, ...poolLeverNames].join(', ')}`);
  return p;
}

function targets(): Target[] {
  const config = loadConfig();
  return config.operator.targets ? parseTargets(config.operator.targets) : nativeTargets(config.stateDir);
}

/** What each running process reports in force, per parameter: "instance=value". */
const inForce = () => parametersInForce(targets());

function describeForce(p: ParameterDef, reports: readonly InForce[] | undefined): string {
  if (!reports || reports.length === 0) return '(no running process applies it)';
  const values = [...new Set(reports.map((r) => r.value))];
  return values.length === 1 ? `${show(p, values[0] ?? 0)} in ${reports.length} process${reports.length === 1 ? '' : 'es'}` : `differs: ${reports.map((r) => `${r.role}=${r.value}`).sort().join(', ')}`;
}

async function get(name: string | undefined, json: boolean): Promise<number> {
  const lever = name ? findPoolLever(name) : undefined;
  const only = name && !lever ? parameter(name, 'tps config get <parameter>') : undefined;
  return withNats('config', async ({ config, nc }) => {
    const control = await openControlStore(nc);
    const views = lever ? [] : (await parameterOperations(nc, control).list()).filter((v) => !only || v.name === only.name);
    const levers = only ? [] : (await poolLeverViews(control, targets(), config)).filter((v) => !lever || v.name === lever.name);
    const force = await inForce();
    if (json) {
      console.log(JSON.stringify([...views.map((v) => ({ ...v, inForce: (force.get(v.name) ?? []).map((r) => `${r.role}=${r.value}`) })), ...levers], null, 2));
      return 0;
    }
    const source = (v: ParameterView) => (v.override ? `set to ${show(v, v.override.value)} by ${v.override.by} at ${v.override.at}${v.override.reason ? ` (${v.override.reason})` : ''}` : `start-up value (${v.env})`);
    if (views.length > 0) console.log(table([['PARAMETER', 'OVERRIDE', 'IN FORCE', 'RANGE'], ...views.map((v) => [v.name, source(v), describeForce(v, force.get(v.name)), range(v)])]));
    if (views.length > 0 && levers.length > 0) console.log('');
    if (levers.length > 0) console.log(table([['POOL LEVER', 'SET', 'IN FORCE', 'RANGE'], ...levers.map((v) => [v.name, v.setting, v.inForce, v.range])]));
    return 0;
  });
}

/** A pool lever's set or reset: the owning command does it (and says what it did). */
async function runPoolLever(lever: PoolLever, value: string | undefined, json: boolean): Promise<number> {
  const [command, ...args] = poolLeverCommand(lever, value, loadConfig());
  const owner = command === 'scale' ? await import('./scale.ts') : command === 'provision' ? await import('./provision.ts') : await import('./autoscaler.ts');
  return owner.main([...args, ...(json ? ['--json'] : [])]);
}

async function set(name: string | undefined, value: string | undefined, opts: { reason?: string | undefined; json: boolean }): Promise<number> {
  const lever = name ? findPoolLever(name) : undefined;
  if (lever) {
    if (value === undefined) throw new UsageError(`which value? tps config set ${lever.name} <value>`);
    if (opts.reason) throw new UsageError(`--reason is kept for live parameters; ${lever.name} is recorded by the command that sets it`);
    return runPoolLever(lever, value, opts.json);
  }
  const p = parameter(name, 'tps config set <parameter> <value>');
  if (value === undefined) throw new UsageError(`which value? tps config set ${p.name} <value> (${range(p)})`);
  const parsed = parseParameterValue(p, value);
  if ('error' in parsed) throw new UsageError(parsed.error);
  return withNats('config', async ({ nc }) => {
    const change = await parameterOperations(nc, await openControlStore(nc)).set(p.name, value, operator(), opts.reason);
    if (opts.json) console.log(JSON.stringify(change, null, 2));
    else console.log(`${p.name} = ${show(p, parsed.value)}${change.previous !== undefined ? ` (was ${show(p, change.previous)})` : ' (was the start-up value)'}; ${p.appliesTo} apply it within a second (tps config get ${p.name}).`);
    if (p.name.startsWith('timeout.') && !opts.json) {
      const warning = await timeoutOrderWarning(p.name, parsed.value);
      if (warning) console.error(warning);
    }
    return 0;
  });
}

/** The handbook's rule (6.1): each hop waits less than the one before it, or a slow service-c
 * holds service-a too. Said, not refused: lab 3.1 lets a learner see the cascade. */
async function timeoutOrderWarning(name: string, value: number): Promise<string | undefined> {
  const force = await inForce();
  const other = (n: string) => force.get(n)?.[0]?.value ?? Number.NaN;
  const [inner, outer] = name === 'timeout.service-c' ? [value, other('timeout.service-b')] : [other('timeout.service-c'), value];
  if (!(inner >= outer)) return undefined;
  return `note: timeout.service-c (${inner} ms) is not below timeout.service-b (${outer} ms): a slow service-c holds service-a's calls too (a cascade; handbook 6.1)`;
}

async function reset(name: string | undefined, all: boolean, json: boolean): Promise<number> {
  if (all && name) throw new UsageError('give a parameter or --all, not both');
  const lever = name ? findPoolLever(name) : undefined;
  if (lever) return runPoolLever(lever, undefined, json);
  const which = all ? 'all' : parameter(name, 'tps config reset <parameter> (or --all)').name;
  return withNats('config', async ({ nc }) => {
    const changes = await parameterOperations(nc, await openControlStore(nc)).reset(which, operator());
    if (json) console.log(JSON.stringify(changes, null, 2));
    else if (changes.length === 0) console.log(all ? 'No parameter is overridden: every process runs on its start-up values.' : `${which} is not overridden: it is at its start-up value.`);
    else for (const c of changes) console.log(`${c.name}: override ${c.previous} removed; back to each process's start-up value.`);
    return 0;
  });
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' }, all: { type: 'boolean' }, reason: { type: 'string' } },
    z.object({ json: z.boolean().optional(), all: z.boolean().optional(), reason: z.string().min(1).max(200).optional() }), { positionals: true });
  const [sub, name, value, ...extra] = positionals;
  if (!sub || !(subcommands as readonly string[]).includes(sub)) throw new UsageError(`expected one of: ${subcommands.join(', ')}`);
  if (extra.length > 0 || (sub !== 'set' && value !== undefined)) throw new UsageError(`unexpected arguments: ${[...(sub !== 'set' && value !== undefined ? [value] : []), ...extra].join(' ')}`);
  if (values.all && sub !== 'reset') throw new UsageError('--all goes with reset: tps config reset --all');
  if (values.reason && sub !== 'set') throw new UsageError('--reason goes with set');
  const json = Boolean(values.json);
  if (sub === 'get') return get(name, json);
  if (sub === 'set') return set(name, value, { reason: values.reason, json });
  return reset(name, Boolean(values.all), json);
}

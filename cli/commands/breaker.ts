import { z } from 'zod';
import { breakerNames, isBreakerName } from '#platform/control/keys.ts';
import { controlOperations, type BreakerView } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { UsageError, parseFlags } from '../output.ts';
import { ago, operator, table, withNats } from '../session.ts';

export const help = `
usage: tps breaker <list|open|close> [<name>] [--json]

Circuit breakers (Jidoka) open by themselves when their target fails and close once it answers
again. These levers override them on every replica at once (through the tps_control bucket):

  list           every breaker: forced or automatic, and its state in each running process
  open <name>    force it open: calls through it are refused at once, the target is not called
                 (a worker pool stops pulling); it stays open until closed
  close <name>   close it now and return it to automatic (also resets one stuck open by itself;
                 do this once the target is confirmed healthy, handbook scenario 4.2 step 4)

Breakers: ${breakerNames.join(', ')}
(quote the name in a shell: the ">" would redirect)

  --json         print the result as JSON

Examples:
  tps breaker list
  tps breaker open 'service-b->service-c'
  tps breaker close 'service-b->service-c'
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } }, z.object({ json: z.boolean().optional() }), { positionals: true });
  const [action, name, ...extra] = positionals;
  if (action !== 'list' && action !== 'open' && action !== 'close') {
    throw new UsageError(action ? `unknown action "${action}"; use list, open or close` : 'which action? list, open <name> or close <name>');
  }
  if (action === 'list' ? name !== undefined : extra.length > 0) throw new UsageError(`unexpected arguments: ${[name, ...extra].filter(Boolean).join(' ')}`);
  if (action !== 'list') {
    if (!name) throw new UsageError(`which breaker? One of: ${breakerNames.join(', ')}`);
    if (!isBreakerName(name)) throw new UsageError(`unknown breaker "${name}"; breakers are ${breakerNames.join(', ')}`);
  }

  return withNats('breaker', async ({ config, nc }) => {
    const ops = controlOperations(nc, await openControlStore(nc), config.autoscaler.enabled);
    if (action === 'list') {
      const views = await ops.breakers();
      console.log(values.json ? JSON.stringify(views, null, 2) : formatList(views));
      return 0;
    }
    const result = await ops.forceBreaker(name ?? '', action === 'open' ? 'open' : 'auto', operator());
    if (values.json) console.log(JSON.stringify(result));
    else if (action === 'open') console.log(`${name}: forced OPEN on every replica; calls through it are refused until \`tps breaker close '${name}'\`.`);
    else console.log(`${name}: closed and automatic again on every replica (it opens by itself if its target still fails).`);
    return 0;
  });
}

function formatList(views: BreakerView[]): string {
  return table([
    ['BREAKER', 'MODE', 'STATE BY PROCESS'],
    ...views.map((v) => [
      v.name,
      v.force ? `forced open by ${v.force.by} ${ago(v.force.at)}` : 'automatic',
      v.processes.length ? v.processes.map((p) => `${p.instance}: ${p.state.replace('_', '-')}`).join(', ') : '(no process running it answered)',
    ]),
  ]);
}

import { z } from 'zod';
import { forecast, ForecastError } from '#operator/capacity/forecast.ts';
import { observeHistory } from '#operator/capacity/observe.ts';
import { planReport } from '#operator/capacity/report.ts';
import { loadConfig } from '#platform/config.ts';
import { CommandError, parseFlags } from '../output.ts';

export const help = `
usage: tps capacity [--days 90] [--price-core 25] [--price-gib 3.5] [--currency $] [--utilisation 80] [--prometheus URL] [--json]

A capacity plan from the history in Prometheus (lab 3.5): the load now, its monthly growth and
daily peak fitted to the last --days of hourly data, and for now, 3, 6 and 12 months: the average
and peak load, the worker processes and slots per pool at --utilisation at the peak, the queue
size per pool that sits half full at the peak, CPU cores, memory, and the cost per month from the
prices; then the first year's cost, a chart of the load month by month, a scaling strategy and
every assumption behind the numbers. Needs at least 14 days of history; \`tps lab start 3.5\`
stages three months of it. docs/capacity.md explains each number.

  --days N          how much history to fit (default 90, 14 to 120)
  --price-core P    price of one CPU core for a month (default 25)
  --price-gib P     price of one GiB of memory for a month (default 3.5)
  --currency C      printed before prices (default $)
  --utilisation U   the share of capacity the peak may use, in % (default: the autoscaler's
                    threshold, AUTOSCALER_UP_UTILIZATION, 80)
  --prometheus URL  where the history is (default TPS_PROMETHEUS_URL, or the native Prometheus)
  --json            the plan as JSON

Example:
  tps capacity --price-core 30 --price-gib 4
`;

const number = (what: string, min: number, max: number) => z.string().regex(/^\d+(\.\d+)?$/, `expected ${what}`).transform(Number)
  .pipe(z.number().min(min, `expected ${what} from ${min} to ${max}`).max(max, `expected ${what} from ${min} to ${max}`));

const flagSchema = z.object({
  days: z.string().regex(/^\d+$/, 'expected a whole number of days').transform(Number).pipe(z.number().min(14, 'a forecast needs at least 14 days').max(120, 'at most 120 days')).default(90),
  'price-core': number('a price per core-month such as 25', 0, 1e6).default(25),
  'price-gib': number('a price per GiB-month such as 3.5', 0, 1e6).default(3.5),
  currency: z.string().max(4, 'a currency sign or code of up to 4 characters').default('$'),
  utilisation: number('a percentage such as 80', 10, 100).optional(),
  prometheus: z.url('expected a URL such as http://127.0.0.1:9090').optional(),
  json: z.boolean().optional(),
});

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    days: { type: 'string' }, 'price-core': { type: 'string' }, 'price-gib': { type: 'string' }, currency: { type: 'string' },
    utilisation: { type: 'string' }, prometheus: { type: 'string' }, json: { type: 'boolean' },
  }, flagSchema);
  const config = loadConfig();
  const prometheusUrl = values.prometheus ?? config.operator.prometheusUrl;
  try {
    const history = await observeHistory({ prometheusUrl, days: values.days, workersNow: config.workers.replicas });
    const plan = forecast(history, {
      utilisation: values.utilisation !== undefined ? values.utilisation / 100 : config.autoscaler.upUtilization,
      prices: { coreMonth: values['price-core'], gibMonth: values['price-gib'], currency: values.currency },
    });
    console.log(values.json ? JSON.stringify(plan, null, 2) : planReport(plan));
    return 0;
  } catch (err) {
    if (err instanceof ForecastError) throw new CommandError(err.message);
    throw err;
  }
}

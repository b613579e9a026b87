// One way to ask Alertmanager's API v2 (the console's Andon cord, the exam's detection clock): the
// alerts it holds, its silences, and a new silence. Every answer is checked against the fields we
// use; anything else (not reached, an HTTP error, a shape we do not know) is an AlertmanagerError
// that says which.
import { z } from 'zod';

const alertSchema = z.object({
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string(),
  status: z.object({ state: z.string(), silencedBy: z.array(z.string()).default([]), inhibitedBy: z.array(z.string()).default([]) }),
});
const silenceSchema = z.object({
  id: z.string(),
  matchers: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  createdBy: z.string(),
  comment: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  status: z.object({ state: z.string() }),
});
export type FiringAlert = z.infer<typeof alertSchema>;
export type Silence = z.infer<typeof silenceSchema>;

export class AlertmanagerError extends Error {}

export type AlertmanagerApi = {
  readonly url: string;
  /** Active alerts, silenced and inhibited ones included. */
  alerts(): Promise<FiringAlert[]>;
  /** Every silence Alertmanager keeps (active, pending and expired). */
  silences(): Promise<Silence[]>;
  /** A silence on exactly these labels, from now for `hours`; returns its id. */
  silence(labels: Readonly<Record<string, string>>, who: string, why: string, hours: number): Promise<string>;
};

export function alertmanagerApi(url: string, timeoutMs = 2_000): AlertmanagerApi {
  const call = async (path: string, init?: RequestInit): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${url}/api/v2${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new AlertmanagerError(`Alertmanager does not answer at ${url} (${(err as Error).message})`);
    }
    if (!res.ok) throw new AlertmanagerError(`Alertmanager answered ${res.status} to ${path}: ${(await res.text()).slice(0, 200)}`);
    return res.json();
  };
  const parsed = <S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> => {
    const result = schema.safeParse(value);
    if (!result.success) throw new AlertmanagerError(`Alertmanager's ${what} are not in the shape of its API v2: ${result.error.issues[0]?.message ?? ''}`);
    return result.data;
  };
  return {
    url,
    alerts: async () => parsed(z.array(alertSchema), await call('/alerts?active=true&silenced=true&inhibited=true'), 'alerts'),
    silences: async () => parsed(z.array(silenceSchema), await call('/silences'), 'silences'),
    async silence(labels, who, why, hours) {
      const now = Date.now();
      const created = await call('/silences', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          matchers: Object.entries(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
          startsAt: new Date(now).toISOString(), endsAt: new Date(now + hours * 3_600_000).toISOString(), createdBy: who, comment: why,
        }),
      });
      return parsed(z.object({ silenceID: z.string() }), created, 'answer to a new silence').silenceID;
    },
  };
}

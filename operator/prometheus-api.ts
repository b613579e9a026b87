// One way to ask Prometheus' HTTP API (the lab probes, the capacity plan): a GET, or a POST of
// form parameters (long PromQL stays out of the URL), answered with the API's `data`, or with a
// failure that says why in words and whether Prometheus was reached at all: `refused` (it
// answered with an error: a bad query, an HTTP error) or `unreachable`.
type Envelope<T> = { status?: string; data?: T; error?: string };
/** `error`: Prometheus' own words when it refused (a bad query). */
export type ApiFailure = { failed: 'unreachable' | 'refused'; reason: string; error?: string };

export const isFailure = (answer: unknown): answer is ApiFailure => typeof answer === 'object' && answer !== null && 'failed' in answer && 'reason' in answer;

export async function prometheusApi<T>(url: string, path: string, form?: Readonly<Record<string, string>>, timeoutMs = 5_000): Promise<T | ApiFailure> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { ...(form ? { method: 'POST', body: new URLSearchParams(form) } : {}), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { failed: 'unreachable', reason: `Prometheus does not answer at ${url} (${(err as Error).message})` };
  }
  const answer = await res.json().catch(() => undefined) as Envelope<T> | undefined;
  if (answer?.status === 'success' && answer.data !== undefined) return answer.data;
  return { failed: 'refused', reason: answer?.error ? `Prometheus refused ${path}: ${answer.error}` : `Prometheus answered ${path} with HTTP ${res.status}`, ...(answer?.error ? { error: answer.error } : {}) };
}

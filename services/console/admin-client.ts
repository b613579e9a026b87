// The admin API as the console calls it: the operator's own Authorization header passed on as
// given (the console keeps no token), the admin API's answer passed back, and a clear 503 when
// nothing answers (ADMIN_API is off by default).
import { AppError, errorCatalogue, type ErrorCode } from '#platform/errors.ts';

export type AdminClient = {
  readonly url: string;
  call(method: 'GET' | 'POST', route: string, authorization: string, body?: unknown): Promise<unknown>;
};

export function adminClient(url: string, timeoutMs = 5_000): AdminClient {
  return {
    url,
    async call(method, route, authorization, body) {
      let res: Response;
      try {
        res = await fetch(`${url}${route}`, {
          method, signal: AbortSignal.timeout(timeoutMs),
          headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        throw new AppError('ADMIN_API_UNAVAILABLE', { detail: `(${url}: ${(err as Error).message})`, cause: err });
      }
      const answer = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      if (res.ok) return answer;
      // The admin API's own code (UNAUTHORIZED, BREAKER_NOT_FOUND, RATE_LIMITED...) reaches the page, with its detail.
      const code: ErrorCode = answer.code !== undefined && Object.hasOwn(errorCatalogue, answer.code) ? (answer.code as ErrorCode) : 'INTERNAL';
      const known = errorCatalogue[code].message;
      const detail = answer.message?.startsWith(known) ? answer.message.slice(known.length).trim() : undefined;
      throw new AppError(code, { ...(detail ? { detail } : {}), ...(res.headers.get('retry-after') ? { retryAfterSeconds: Number(res.headers.get('retry-after')) } : {}) });
    },
  };
}

// The admin API as the console calls it: the operator's own Authorization header passed on as
// given (the console keeps no token), the admin API's answer passed back, and a clear 503 when
// nothing answers (ADMIN_API is off by default). The name is resolved by platform/dns.ts
// (platform/http/bounded-request.ts): in compose the admin API is another container's.
import { AppError, errorCatalogue, type ErrorCode } from '#platform/errors.ts';
import { boundedRequest, type TextAnswer } from '#platform/http/bounded-request.ts';

export type AdminClient = {
  readonly url: string;
  call(method: 'GET' | 'POST', route: string, authorization: string, body?: unknown): Promise<unknown>;
};

export function adminClient(url: string, timeoutMs = 5_000): AdminClient {
  return {
    url,
    async call(method, route, authorization, body) {
      let res: TextAnswer;
      try {
        res = await boundedRequest(`${url}${route}`, {
          method, timeoutMs,
          headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        throw new AppError('ADMIN_API_UNAVAILABLE', { detail: `(${url}: ${(err as Error).message})`, cause: err });
      }
      const answer = parsed(res.text);
      if (res.status >= 200 && res.status < 300) return answer;
      // The admin API's own code (UNAUTHORIZED, BREAKER_NOT_FOUND, RATE_LIMITED...) reaches the page, with its detail.
      const code: ErrorCode = answer.code !== undefined && Object.hasOwn(errorCatalogue, answer.code) ? (answer.code as ErrorCode) : 'INTERNAL';
      const known = errorCatalogue[code].message;
      const detail = answer.message?.startsWith(known) ? answer.message.slice(known.length).trim() : undefined;
      const retryAfter = res.header('retry-after');
      throw new AppError(code, { ...(detail ? { detail } : {}), ...(retryAfter ? { retryAfterSeconds: Number(retryAfter) } : {}) });
    },
  };
}

function parsed(text: string): { code?: string; message?: string } {
  try {
    return JSON.parse(text) as { code?: string; message?: string };
  } catch {
    return {};
  }
}

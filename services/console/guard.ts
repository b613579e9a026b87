// What every console action checks before it is passed to the admin API: the request came from
// the console's own page (or from no browser at all), and it carries a bearer token. Whether the
// token is right is the admin API's to say.
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError } from '#platform/errors.ts';
import { describeIssues } from '#platform/issue-words.ts';

export function requireToken(request: FastifyRequest): string {
  const authorization = request.headers.authorization;
  if (!authorization || !/^Bearer \S+$/.test(authorization)) throw new AppError('UNAUTHORIZED', { detail: 'Sign in with the admin token (ADMIN_TOKEN) on the page.' });
  return authorization;
}

/** A browser names the page's origin on every POST: it must be this console's own. */
export function sameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return; // not a browser (curl, a script): the token alone decides
  const host = request.headers.host;
  if (!host || (origin !== `http://${host}` && origin !== `https://${host}`)) throw new AppError('FORBIDDEN_ORIGIN', { detail: `(origin ${origin})` });
}

/** An action: same origin and a token, then its body as the schema says. */
export function action<S extends z.ZodType>(request: FastifyRequest, schema: S): { authorization: string; body: z.output<S> } {
  sameOrigin(request);
  const authorization = requireToken(request);
  const parsed = schema.safeParse(request.body ?? {});
  if (!parsed.success) throw new AppError('INVALID_REQUEST', { detail: describeIssues(parsed.error, request.body ?? {}, { root: 'body' }) });
  return { authorization, body: parsed.data };
}

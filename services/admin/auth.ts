// Bearer-token check for the admin API. The comparison takes the same time whatever the guess
// (both sides are hashed to equal length first, then compared with timingSafeEqual), so the
// token cannot be found one character at a time by timing the answers.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '#platform/config.ts';

export const minTokenLength = 16;

/** Refuses to start an admin API that anyone could use. */
export function requireToken(token: string | undefined): string {
  if (!token) throw new ConfigError(['ADMIN_API is on but ADMIN_TOKEN is not set: the admin API refuses to start without a token (e.g. ADMIN_TOKEN=$(openssl rand -hex 24))']);
  if (token.length < minTokenLength) throw new ConfigError([`ADMIN_TOKEN is ${token.length} characters; use at least ${minTokenLength} (e.g. openssl rand -hex 24)`]);
  return token;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function bearerChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization ?? '');
    // Hash even when there is nothing to compare, so a missing token takes as long as a wrong one.
    const given = digest(match?.[1] ?? '');
    return timingSafeEqual(given, expected) && match !== null;
  };
}

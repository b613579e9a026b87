// Native Grafana's login: no admin/admin and no anonymous viewing by default (reliability matrix
// S15). The admin password is GRAFANA_ADMIN_PASSWORD, or one generated at the first start and
// kept in the state folder (mode 0600); Grafana reads it from there (GF_..._PASSWORD__FILE), so it
// is in no process environment, log or state file. `tps up` prints it on the terminal.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '#platform/config.ts';
import { writeSecret } from '#platform/nats/credentials.ts';

export const grafanaDir = (stateDir: string) => path.join(stateDir, 'grafana');
export const grafanaPasswordFile = (stateDir: string) => path.join(grafanaDir(stateDir), 'admin-password');

export type GrafanaLogin = { password: { given: string } | { file: string }; note?: string };

/**
 * Where Grafana's admin password comes from. Grafana applies it only when it creates its database,
 * so a database made before the password file keeps its old password: that is said, not hidden.
 */
export function grafanaLogin(stateDir: string, grafana: Config['grafana']): GrafanaLogin {
  if (grafana.adminPassword) return { password: { given: grafana.adminPassword } };
  const file = grafanaPasswordFile(stateDir);
  if (existsSync(file)) return { password: { file } };
  const database = path.join(grafanaDir(stateDir), 'data', 'grafana.db');
  writeSecret(file, randomBytes(18).toString('base64url'));
  if (!existsSync(database)) return { password: { file } };
  return {
    password: { file },
    note: `Grafana's database (${database}) predates its generated password and keeps the admin password it had (admin/admin if never changed): ` +
      `change it in Grafana, or delete ${path.dirname(database)} to start over with the one in ${file}.`,
  };
}

/** Grafana's documented settings (conf/defaults.ini: [security], [users], [auth.anonymous]) for native mode. */
export function grafanaSecurityEnvironment(login: GrafanaLogin, anonymous: boolean): Record<string, string> {
  return {
    GF_SECURITY_ADMIN_USER: 'admin',
    ...('file' in login.password ? { GF_SECURITY_ADMIN_PASSWORD__FILE: login.password.file } : { GF_SECURITY_ADMIN_PASSWORD: login.password.given }),
    GF_USERS_ALLOW_SIGN_UP: 'false',
    GF_USERS_ALLOW_ORG_CREATE: 'false',
    GF_AUTH_ANONYMOUS_ENABLED: String(anonymous),
    GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
  };
}

/** What `tps up` prints next to Grafana's URL: the generated password (the operator's terminal only). */
export function grafanaLoginLine(stateDir: string, grafana: Config['grafana']): string {
  const file = grafanaPasswordFile(stateDir);
  if (grafana.adminPassword || !existsSync(file)) return 'log in as admin with GRAFANA_ADMIN_PASSWORD';
  return `log in as admin / ${readFileSync(file, 'utf8').trim()}  (kept in ${file})`;
}

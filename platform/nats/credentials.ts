// Credentials of the NATS users when native mode runs its own nats-server: generated at every
// `tps up`, kept only in the state folder (mode 0600), never committed or baked into an image.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { natsUserNames, type NatsUserName } from './permissions.ts';

export type Passwords = Readonly<Record<NatsUserName, string>>;

export function generatePasswords(): Passwords {
  return Object.fromEntries(natsUserNames.map((u) => [u, randomBytes(18).toString('base64url')])) as Record<NatsUserName, string>;
}

/** `.tps/nats/operator.env`: what `bin/tps` loads so operator commands can reach the local NATS. */
export function operatorEnvFile(stateDir: string): string {
  return path.join(stateDir, 'nats', 'operator.env');
}

export function writeSecret(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function writeOperatorEnv(stateDir: string, url: string, passwords: Passwords): void {
  writeSecret(operatorEnvFile(stateDir), `NATS_URL=${url}\nNATS_USER=operator\nNATS_PASSWORD=${passwords.operator}\n`);
}

export function removeOperatorEnv(stateDir: string): void {
  rmSync(operatorEnvFile(stateDir), { force: true });
}

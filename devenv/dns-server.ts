// A DNS server on loopback for tests: answers A queries for the names it is given, NXDOMAIN for
// any other name, and, once silenced, nothing at all (a resolver whose upstream is out of reach,
// as Docker's is for a stopped container's name on a machine without outside DNS).
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DnsServer = {
  /** `127.0.0.1:<port>`, for a resolver's server list. */
  readonly address: string;
  /** Queries received, as `<type> <name>` (`A nats.test`, `AAAA nats.test`). */
  readonly queries: string[];
  /** From now on, no query gets an answer. */
  silence(): void;
  close(): Promise<void>;
};

const typeNames: Record<number, string> = { 1: 'A', 28: 'AAAA' };

/** `bindTo`: `ip:port` (port 53 for a resolv.conf, which names no port); a free port otherwise. */
export async function startDnsServer(options: { names?: Record<string, string>; bindTo?: string } = {}): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  let silent = false;
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    queries.push(`${typeNames[question.type] ?? question.type} ${question.name}`);
    if (silent) return;
    const ipv4 = options.names?.[question.name];
    socket.send(answer(query, question, ipv4), peer.port, peer.address);
  });
  const [host = '127.0.0.1', port = '0'] = options.bindTo?.split(':') ?? [];
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(Number(port), host, () => resolve());
  });
  return {
    address: `${host}:${socket.address().port}`,
    queries,
    silence: () => { silent = true; },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

type Question = { name: string; type: number; end: number };

/** The first question of a query (RFC 1035 4.1.2): labels, then type and class. */
function readQuestion(query: Buffer): Question {
  const labels: string[] = [];
  let at = 12;
  while (query[at] !== 0) {
    const length = query[at]!;
    labels.push(query.subarray(at + 1, at + 1 + length).toString('ascii'));
    at += 1 + length;
  }
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end: at + 5 };
}

/** The answer: the name's address for an A query, no record for another type, else NXDOMAIN. */
function answer(query: Buffer, question: Question, ipv4: string | undefined): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // the query's id
  const rcode = ipv4 === undefined ? 3 : 0;
  header.writeUInt16BE(0x8180 | rcode, 2); // a response, recursion desired and available
  header.writeUInt16BE(1, 4); // one question
  const records = ipv4 !== undefined && question.type === 1 ? [record(ipv4)] : [];
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, question.end), ...records]);
}

function record(ipv4: string): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  out.writeUInt16BE(1, 2); // A
  out.writeUInt16BE(1, 4); // IN
  out.writeUInt32BE(5, 6); // TTL, seconds
  out.writeUInt16BE(4, 10);
  ipv4.split('.').forEach((octet, i) => out.writeUInt8(Number(octet), 12 + i));
  return out;
}

/**
 * A command prefix that runs a program with its own /etc/resolv.conf naming `nameserver` (a mount
 * namespace of its own; root only), allowing it `timeoutSeconds` for an answer, and, given
 * `hosts` lines, its own /etc/hosts. The program is exec'd, so signals reach it. `dispose`
 * removes the files.
 */
export function withResolvConf(nameserver: string, timeoutSeconds: number, hosts?: readonly string[]): { wrap: string[]; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tps-resolv-'));
  const file = join(dir, 'resolv.conf');
  writeFileSync(file, `nameserver ${nameserver}\noptions timeout:${timeoutSeconds} attempts:1\n`);
  const mounts = [`mount --bind '${file}' /etc/resolv.conf`];
  if (hosts) {
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost\n${hosts.join('\n')}\n`);
    mounts.push(`mount --bind '${join(dir, 'hosts')}' /etc/hosts`);
  }
  return {
    wrap: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${mounts.join(' && ')} && exec "$@"`, 'in-namespace'],
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

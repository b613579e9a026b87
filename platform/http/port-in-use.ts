// A role's port already taken: its own module, so `tps` can recognise the error (cli/output.ts)
// without loading the role runtime (Fastify, the chaos injector, prom-client) into every command.
export class PortInUseError extends Error {
  constructor(host: string, port: number, cause: unknown) {
    super(`Port ${port} on ${host} is already in use (another TPS Lab, or another program). Stop it, or set HTTP_PORT.`, { cause });
    this.name = 'PortInUseError';
  }
}

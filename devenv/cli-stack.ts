// The set-up most CLI tests share: a nats-server of the test's own, the whole stack on it, and
// the environment a `tps` command needs to act on that stack, as an operator's shell would have.
import { startNatsServer, type NatsServerHandle } from './nats-server.ts';
import { startStack, type Stack } from './stack.ts';
import { noPrometheus } from './lab-runs.ts';

export type CliStack = {
  server: NatsServerHandle;
  stack: Stack;
  /** NATS_URL and TPS_STATE_DIR of this stack; TPS_PROMETHEUS_URL and TPS_ALERTMANAGER_URL its
   * Prometheus and Alertmanager when it runs them (TPS_MONITORING=auto), else a port that refuses
   * at once (never one this machine runs). */
  env: Record<string, string>;
  stop(): Promise<void>;
};

export async function startCliStack(stackEnv: Record<string, string> = {}): Promise<CliStack> {
  const server = await startNatsServer();
  try {
    const stack = await startStack(server.url, stackEnv);
    const monitored = stackEnv.TPS_MONITORING === 'auto';
    const [prometheus, alertmanager] = monitored ? [stack.url('prometheus'), stack.url('alertmanager')] : [noPrometheus, noPrometheus];
    return {
      server,
      stack,
      env: { NATS_URL: server.url, TPS_STATE_DIR: stack.stateDir, TPS_PROMETHEUS_URL: prometheus, TPS_ALERTMANAGER_URL: alertmanager },
      async stop() {
        await stack.stop();
        await server.dispose();
      },
    };
  } catch (err) {
    await server.dispose();
    throw err;
  }
}

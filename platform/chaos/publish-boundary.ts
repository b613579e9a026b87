// The NATS publish boundary: faults aimed at a publishing role (the ingress) act where it hands a
// message to JetStream. Latency and hang delay the publish; an injected error is a failed publish,
// as a broker that refuses it would give (the caller maps it like any broker failure).
// Nothing is added to the publish path while no fault is armed.
import { PublishError, type JetStreamPublisher } from '../nats/jetstream-publisher.ts';
import { InjectedFault, type Chaos } from './injector.ts';

export function withPublishFaults(publisher: JetStreamPublisher, chaos: Chaos): JetStreamPublisher {
  const asBrokerError = (err: unknown): never => {
    throw err instanceof InjectedFault ? new PublishError(`chaos: error_rate on ${err.target} failed this publish to NATS`, 0, 503) : err;
  };
  return {
    publish(subject, data, opts) {
      if (!chaos.armed()) return publisher.publish(subject, data, opts);
      return chaos.outbound(undefined, data.length).then(() => publisher.publish(subject, data, opts), asBrokerError);
    },
    failPending: (reason) => publisher.failPending(reason),
    close: () => publisher.close(),
  };
}

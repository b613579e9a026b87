// The hold a worker keeps on a delivered job (workers/delivery-lease.ts), with a clock the test
// moves and a sink for the heartbeats: it tells JetStream every third of ack_wait whatever the
// job's deadline (R14); a whole ack_wait without telling (a paused process) loses the job and
// stops telling (R15); a handler stuck past the longest a job can take stops telling too.
import { expect, it } from 'vitest';
import { holdDelivery } from '#workers/delivery-lease.ts';
import { waitFor } from '#devenv/nats-server.ts';

const ackWaitMs = 90;

/** A clock that moves only when the test says, and counts the lease's looks at it (its ticks). */
function testClock() {
  const state = { t: 0, reads: 0 };
  return {
    now: () => { state.reads += 1; return state.t; },
    advance: (ms: number) => { state.t += ms; },
    /** Resolves after the lease has looked at the clock `n` more times (its timer ticked). */
    ticks: (n: number) => { const target = state.reads + n; return waitFor(() => (state.reads >= target ? true : undefined), 2_000, () => `${n} ticks`); },
  };
}

function hold(maxHoldMs: number) {
  const clock = testClock();
  const sink = { beats: 0 };
  const lease = holdDelivery({ working: () => { sink.beats += 1; } }, { ackWaitMs, maxHoldMs, now: clock.now });
  return { clock, sink, lease };
}

it('tells JetStream every third of ack_wait, however short the job\'s own deadline', async () => {
  const { clock, sink, lease } = hold(10_000);
  await clock.ticks(3);
  expect(sink.beats).toBeGreaterThanOrEqual(2);
  expect(lease.lost()).toBe(false);
  lease.release();
});

it('loses the job after a whole ack_wait without telling (a paused process), and stops telling', async () => {
  const { clock, sink, lease } = hold(10_000);
  await waitFor(() => (sink.beats >= 1 ? true : undefined), 2_000, () => 'a first heartbeat');
  clock.advance(2 * ackWaitMs);
  const beats = sink.beats;
  await clock.ticks(1);
  expect(sink.beats).toBe(beats);
  expect(lease.lost()).toBe(true);
  lease.release();
});

it('stops telling once the job has run past the longest it can take, so JetStream hands it on', async () => {
  const { clock, sink, lease } = hold(100);
  await waitFor(() => (sink.beats >= 1 ? true : undefined), 2_000, () => 'a first heartbeat');
  clock.advance(60);
  await waitFor(() => (sink.beats >= 2 ? true : undefined), 2_000, () => 'a heartbeat within the job\'s time');
  clock.advance(60);
  const beats = sink.beats;
  await clock.ticks(1);
  expect(sink.beats).toBe(beats);
  expect(lease.lost()).toBe(false);
  clock.advance(ackWaitMs);
  expect(lease.lost()).toBe(true);
  lease.release();
});

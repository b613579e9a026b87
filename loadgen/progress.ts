// The live line on stderr, about once a second: on a terminal it rewrites itself in place, in a
// pipe or a log it is one plain line per second.
import type { Progress } from './generator.ts';

export function formatProgress(p: Progress): string {
  const s = p.counts.statuses;
  return [
    `${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s`,
    `rate ${p.rate.toFixed(0)}/s`,
    `p50 ${ms(p.window.p50)} p99 ${ms(p.window.p99)}`,
    `202 ${s[202]}  429 ${s[429]}  503 ${s[503]}  other ${s.other + s.failed}`,
    `in flight ${p.counts.inFlight}`,
    `dropped ${p.counts.dropped}`,
  ].join('  |  ');
}

export function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(value < 10 ? 2 : 0)}ms`;
}

export function progressWriter(stream: NodeJS.WriteStream): { show(p: Progress): void; end(): void } {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    show(p) {
      shown = true;
      stream.write(tty ? `\r\x1b[2K${formatProgress(p)}` : `${formatProgress(p)}\n`);
    },
    end() { if (tty && shown) stream.write('\n'); },
  };
}

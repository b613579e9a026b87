// What a probe says: whether it holds, what it measured (the evidence in a report) and, when it
// does not hold, why in words.
export type ProbeResult = { holds: boolean; measured?: number | string; reason?: string };

export type Comparison = '>' | '>=' | '<' | '<=' | '==';

export const compare: Record<Comparison, (measured: number, wanted: number) => boolean> = {
  '>': (a, b) => a > b, '>=': (a, b) => a >= b, '<': (a, b) => a < b, '<=': (a, b) => a <= b, '==': (a, b) => a === b,
};

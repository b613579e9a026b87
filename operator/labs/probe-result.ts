// What a probe says: whether it holds, what it measured (the evidence in a report) and, when it
// does not hold, why in words.
export type ProbeResult = { holds: boolean; measured?: number | string; reason?: string };

export type Comparison = '>' | '>=' | '<' | '<=' | '==';

export const compare: Record<Comparison, (measured: number, wanted: number) => boolean> = {
  '>': (a, b) => a > b, '>=': (a, b) => a >= b, '<': (a, b) => a < b, '<=': (a, b) => a <= b, '==': (a, b) => a === b,
};

/** How the learner answers this run's questions: `tps exam 2 answer` for an exam, else `tps lab answer <id>`. */
export const answerCommand = (labId: string): string =>
  (labId.startsWith('exam-') ? `tps exam ${labId.slice('exam-'.length)} answer` : `tps lab answer ${labId}`);

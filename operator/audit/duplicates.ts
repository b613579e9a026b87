// Duplicate side effects, as service-c (the last hop, where the expensive work happens) saw them:
// the Idempotency-Keys (job ids) it completed more than once, from GET /effects/duplicates.
import { z } from 'zod';

const answerSchema = z.object({ service: z.string(), remembered: z.number(), capacity: z.number(), keys: z.array(z.string()) });

export type DuplicateReport =
  | { available: true; source: string; keys: string[]; remembered: number }
  | { available: false; source: string; reason: string };

export async function readDuplicates(serviceUrl: string, timeoutMs = 3_000): Promise<DuplicateReport> {
  const source = `${serviceUrl}/effects/duplicates`;
  try {
    const res = await fetch(source, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { available: false, source, reason: `HTTP ${res.status}` };
    const answer = answerSchema.safeParse(await res.json());
    if (!answer.success) return { available: false, source, reason: 'not an effects report' };
    return { available: true, source, keys: answer.data.keys, remembered: answer.data.remembered };
  } catch (err) {
    return { available: false, source, reason: (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message };
  }
}

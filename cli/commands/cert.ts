import { z } from 'zod';
import { labCatalogue } from '#operator/labs/catalogue.ts';
import { standing } from '#operator/labs/certification.ts';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { parseFlags } from '../output.ts';

export const help = `
usage: tps cert [--json]

Which levels of the certification program you have passed, from the results kept in the state
folder (.tps/labs/): Level 1 is the quiz (tps quiz), a higher level every lab of that level
(tps lab list) with the level below passed first. Exit 0 when at least Level 1 is passed.
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' } }, z.object({ json: z.boolean().optional() }));
  const levels = standing(stateDir(loadConfig().stateDir), labCatalogue());
  if (values.json) {
    console.log(JSON.stringify(levels, null, 2));
  } else {
    for (const l of levels) {
      console.log(`Level ${l.level}: ${l.passed ? 'PASSED' : 'not yet'}${l.done.length ? `; done: ${l.done.join(', ')}` : ''}${l.missing.length ? `; to do: ${l.missing.join(', ')}` : ''}`);
    }
  }
  return levels[0]?.passed ? 0 : 1;
}

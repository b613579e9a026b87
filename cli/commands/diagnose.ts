import { collect } from '#operator/status/collect.ts';
import { diagnose } from '#operator/status/diagnose.ts';
import { painter, renderFindings } from '#operator/status/render.ts';
import { snapshot } from '#operator/status/snapshot.ts';
import { parseFlags } from '../output.ts';
import { resolveTargets, statusFlags, statusSchema } from './status.ts';

export const help = `
usage: tps diagnose [--interval <seconds>] [--targets role=url,...] [--json] [--no-color]

Runs the handbook's decision trees (sections 3.2, 4 and 5) over the live metrics and says what is
wrong, how severe it is (CRITICAL, HIGH, MEDIUM, INFO as in the handbook's triage), why, and what
to do next, most severe first. Exit status 0 when nothing is HIGH or CRITICAL, 3 otherwise (so
scripts and labs can check it).
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, statusFlags, statusSchema);
  const findings = diagnose(snapshot(await collect(resolveTargets(values.targets), values.interval * 1000)));
  const paint = painter(!values['no-color'] && !values.json && Boolean(process.stdout.isTTY && process.stdout.hasColors?.()));
  console.log(values.json ? JSON.stringify(findings, null, 2) : renderFindings(findings, paint));
  return findings.some((f) => f.severity === 'critical' || f.severity === 'high') ? 3 : 0;
}

// Placeholder for `tps chaos run`: the scenario runner is built separately and replaces this file.

export const help = `
usage: tps chaos run <scenario>

Runs a chaos scenario (a timeline of faults). Not available in this build.
`;

export async function main(_argv: string[]): Promise<number> {
  console.error('tps: scenarios are not available in this build');
  return 2;
}

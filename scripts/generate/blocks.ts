// Generated blocks inside hand-written files: the lines between a `# >>> generated: <name>` line and
// its `# <<< generated: <name>` line (in Markdown `<!-- >>> generated: <name> -->`) belong to the generator; everything around them to people. A
// compose file or a Prometheus configuration keeps its comments, and still cannot drift from the
// role and pool tables.
export class MissingBlockError extends Error {
  constructor(file: string, name: string) {
    super(`${file} has no generated block "${name}" (the lines "# >>> generated: ${name}" ... "# <<< generated: ${name}")`);
    this.name = 'MissingBlockError';
  }
}

/** The text with the named block's lines replaced; the marker lines keep their indentation. */
export function replaceBlock(file: string, text: string, name: string, lines: readonly string[]): string {
  const all = text.split('\n');
  // In Markdown the markers are HTML comments, which a rendered page does not show.
  const marker = (dir: '>>>' | '<<<', l: string) => [`# ${dir} generated: ${name}`, `<!-- ${dir} generated: ${name} -->`].includes(l.trim());
  const start = all.findIndex((l) => marker('>>>', l));
  const end = all.findIndex((l, i) => i > start && marker('<<<', l));
  if (start < 0 || end < 0) throw new MissingBlockError(file, name);
  return [...all.slice(0, start + 1), ...lines, ...all.slice(end)].join('\n');
}

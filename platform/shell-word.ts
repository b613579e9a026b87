// A value printed inside a command for the operator to copy, e.g. a ledger's path in `tps audit <path>`:
// quoted for a POSIX shell when it needs it (a clone in "~/My Projects"), left bare when it does not.
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

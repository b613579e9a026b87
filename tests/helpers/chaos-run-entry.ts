// Runs `tps chaos run` as its own process the way cli/main.ts would (exit codes, errors reported
// without a stack trace). Once cli/commands/chaos.ts dispatches `tps chaos run` here, the tests can
// spawn bin/tps with ['chaos', 'run', ...] instead (tests/helpers/chaos-run.ts, one line).
import { help, main } from '#cli/commands/chaos-run.ts';
import { reportError } from '#cli/output.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help')) console.log(help.trim());
else main(argv).then((code) => { process.exitCode = code; }, (err: unknown) => { process.exitCode = reportError(err); });

/**
 * The CLI's process entry: `npm run cli -- <command> [options]` (see USAGE in ./cli.ts,
 * or run with --help). Exits with the command's status once stdout is flushed.
 */
import { runCli } from './cli';

runCli(process.argv.slice(2)).then((code) => {
  process.stdout.write('', () => process.exit(code));
});

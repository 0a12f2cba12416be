/**
 * @module The `mraa` program's own behaviour, the same for every command: `--version`
 * (from package.json), the global `--config` and `--json`, and commander's own errors
 * (an unknown command or option, a value its parser refused) turned into exit 2, as
 * `{"error": {"code", "message"}}` on stdout under --json. The exit codes are listed
 * in the help and in src/cli/exit-codes.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { PACKAGE_ROOT } from '../paths.js';
import { EXIT } from './exit-codes.js';
import { errorDocument, printJson } from './run.js';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Whether --json is among the arguments (before a `--`), for errors commander itself raises. */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

const EXIT_HELP = `
Exit codes (every command):
  0  done (or nothing to do: "already fenced", "already takes writes")
  1  failed: nothing answered, a plan stopped or would not start, data differ, no majority of voters
  2  bad usage: unknown command or option, a value out of range, a bad configuration (nothing changed)
  3  done, but attention needed: a region or voter down, regions that disagree, a backlog`;

/** Call before the commands are added: subcommands copy these settings when created. */
export function configureProgram(program: Command, args: readonly string[] = process.argv.slice(2)): Command {
  const json = wantsJson(args);
  return program
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'print one JSON document on stdout (errors as {"error": {"code", "message"}}), same exit codes')
    .exitOverride()
    .configureOutput({
      // Under --json, commander's own messages become the JSON error below.
      writeErr: (text) => {
        if (!json) process.stderr.write(text);
      },
    })
    .showHelpAfterError('(mraa --help, or mraa COMMAND --help, for usage)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_HELP);
}

/** Parses and runs; commander's own errors exit 2 (help and --version exit 0). */
export async function parseProgram(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) {
      process.exitCode = EXIT.done;
      return;
    }
    if (wantsJson(argv.slice(2))) {
      printJson(errorDocument('usage', err.message.replace(/^error: /, ''), { commander: err.code }));
    }
    process.exitCode = EXIT.usage;
  }
}

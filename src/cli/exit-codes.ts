/**
 * @module The exit codes of every `mraa` command (README "Commands", docs/runbook.md):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | done: the command did what it was asked, or there was nothing to do |
 * | 1 | failed: it could not (nothing answered, a plan stopped, data differ, no majority of voters) |
 * | 2 | bad usage: an unknown command or option, a value out of range, a bad configuration; nothing was changed |
 * | 3 | done, but attention needed: a region or voter down, regions that disagree, a backlog |
 */
export const EXIT = {
  done: 0,
  failed: 1,
  usage: 2,
  attention: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A failure a command reports in plain words, with a code (as in the JSON output's
 * `{error: {code, message}}`) and its exit code (bad usage by default).
 */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exit: ExitCode = EXIT.usage,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * @module Runs a command's action: global options, `--json`, and the exit code
 * (src/cli/exit-codes.ts). Errors are printed in plain words (with the server's code)
 * on stderr, or as `{"error": {"code", "message"}}` on stdout under `--json`; never a
 * stack trace for a known failure.
 */
import type { Command } from 'commander';
import { ConfigError } from '../config/config.js';
import { PlanError } from '../orchestration/plan-types.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';
import { stderrColors } from './format.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** What a command ends with: its exit code, and its JSON document (printed under --json). */
export interface Outcome {
  exit: ExitCode;
  json?: unknown;
}

/** Where a command writes for people; under --json it writes nothing but its one document. */
export class Output {
  constructor(readonly json: boolean) {}

  /** A line for people on stdout (nothing under --json). */
  line(text = ''): void {
    if (!this.json) console.log(text);
  }

  /** A note for people on stderr: progress, hints (nothing under --json). */
  note(text: string): void {
    if (!this.json) console.error(text);
  }
}

export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** The JSON document of a failure: `{error: {code, message, ...details}}`, plus any other fields. */
export function errorDocument(
  code: string,
  message: string,
  details: Record<string, unknown> = {},
  rest: Record<string, unknown> = {},
): Record<string, unknown> {
  return { error: { code, message, ...details }, ...rest };
}

interface Described {
  code: string;
  message: string;
  exit: ExitCode;
  details: Record<string, unknown>;
}

export function describeFailure(err: unknown): Described {
  if (err instanceof CliError) return { code: err.code, message: err.message, exit: err.exit, details: err.details };
  if (err instanceof ConfigError) return { code: 'config', message: err.message, exit: EXIT.usage, details: {} };
  if (err instanceof PlanError) {
    return {
      code: err.code,
      message: err.message,
      // A plan refused as malformed (no such region, a bad timeout) is bad usage.
      exit: err.code === 'invalid_request' ? EXIT.usage : EXIT.failed,
      details: { ...err.details, ...(err.timeline.length ? { timeline: err.timeline } : {}) },
    };
  }
  return { code: 'internal', message: (err as Error)?.message ?? String(err), exit: EXIT.failed, details: {} };
}

/**
 * Runs `action` with the global options. `json: true` says the command prints one JSON
 * document under --json; any other command refuses --json before it does anything.
 */
export async function run(
  cmd: Command,
  /** Resolves to an Outcome, or to nothing when it printed for people only (exit 0 unless it set one). */
  action: (g: GlobalOptions, out: Output) => Promise<unknown>,
  options: { json?: boolean } = {},
): Promise<void> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  const out = new Output(g.json === true);
  try {
    if (out.json && !options.json) {
      throw new CliError('usage', `mraa ${commandPath(cmd)} does not print JSON: run it without --json`);
    }
    const outcome = (await action(g, out)) as Outcome | undefined;
    if (!outcome) return;
    if (out.json && outcome.json !== undefined) printJson(outcome.json);
    process.exitCode = outcome.exit;
  } catch (err) {
    const f = describeFailure(err);
    if (out.json) printJson(errorDocument(f.code, f.message, f.details));
    else if (f.code === 'internal') {
      const { red, dim } = stderrColors;
      console.error(red(`error: ${f.message}`));
      console.error(
        dim(process.env.MRAA_DEBUG ? String((err as Error)?.stack) : '(MRAA_DEBUG=1 shows where it happened)'),
      );
    } else {
      const showCode = err instanceof PlanError && f.code !== 'invalid_request';
      console.error(stderrColors.red(`${f.message}${showCode ? ` (${f.code})` : ''}`));
    }
    process.exitCode = f.exit;
  }
}

/** `voters list`, `failover`: the command's names below the program. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

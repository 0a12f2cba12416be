/**
 * @module Runs a command's action: global options, and errors printed in plain words
 * (with the server's code) and a non-zero exit, never a stack trace for a known failure.
 */
import type { Command } from 'commander';
import { ConfigError } from '../config/config.js';
import { PlanError } from '../orchestration/plan-types.js';
import { red } from './format.js';

export interface GlobalOptions {
  config?: string;
}

export async function run(cmd: Command, action: (g: GlobalOptions) => Promise<void>): Promise<void> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  try {
    await action(g);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(red(err.message));
      process.exitCode = 2;
    } else if (err instanceof PlanError) {
      console.error(red(`${err.message}${err.code ? ` (${err.code})` : ''}`));
      process.exitCode = 1;
    } else {
      console.error(red(`error: ${(err as Error).stack ?? String(err)}`));
      process.exitCode = 1;
    }
  }
}

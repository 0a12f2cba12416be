#!/usr/bin/env node
/**
 * @module The `mraa` command: one file per command, registered here; what every
 * command shares (--version, --json, exit codes) in src/cli/program.ts.
 */
import { Command } from 'commander';
import { registerCompletionCommand } from './completion.js';
import { registerConflictsCommand } from './conflicts-command.js';
import { registerDrillCommand } from './drill-command.js';
import { registerEdgeCommand } from './edge-command.js';
import { registerInitCommand } from './init-command.js';
import { registerPlanCommands } from './plan-commands.js';
import { configureProgram, parseProgram } from './program.js';
import { registerRegionCommand } from './region-command.js';
import { registerStateCommands } from './state-commands.js';
import { registerStatusCommand } from './status-command.js';
import { registerUpCommand } from './up.js';
import { registerUsersCommand } from './users-command.js';
import { registerVerifyCommand } from './verify-command.js';
import { registerVotersCommand } from './voters-command.js';
import { registerWitnessCommand } from './witness-command.js';

const program = configureProgram(
  new Command('mraa')
    .description('multi-region active/passive application platform')
    .option('--config <file>', 'the deployment configuration (default: ./mraa.config.json)'),
);

registerUpCommand(program);
registerInitCommand(program);
registerRegionCommand(program);
registerWitnessCommand(program);
registerEdgeCommand(program);
registerVotersCommand(program);
registerStateCommands(program);
registerPlanCommands(program);
registerDrillCommand(program);
registerUsersCommand(program);
registerStatusCommand(program);
registerVerifyCommand(program);
registerConflictsCommand(program);
registerCompletionCommand(program);

await parseProgram(program);

/**
 * @module `mraa witness [--name NAME]`: runs the control plane's witness voter in the
 * foreground (production: on a third site; locally `mraa up` starts it).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { startWitness } from '../witness/witness.js';
import { CliError } from './exit-codes.js';
import { name as validName } from './options.js';
import { stopWithSupervisor } from './region-command.js';
import { run } from './run.js';

export function registerWitnessCommand(program: Command): void {
  program
    .command('witness')
    .description("run the control plane's witness voter in the foreground (a third site)")
    .option(
      '--name <name>',
      'the witness to run, as named in controlPlane.witnesses (default: the only one)',
      validName,
    )
    .action((opts: { name?: string }, cmd: Command) =>
      run(cmd, async (g) => {
        const config = loadConfig(g.config);
        const witnesses = config.controlPlane.witnesses;
        const name = opts.name ?? (witnesses.length === 1 ? witnesses[0]!.name : undefined);
        if (!name) {
          throw new CliError(
            'usage',
            witnesses.length === 0
              ? 'the configuration lists no witness (controlPlane.witnesses)'
              : `name the witness to run with --name (${witnesses.map((w) => w.name).join(', ')})`,
          );
        }
        const running = await startWitness({ config, name });
        stopWithSupervisor(() => running.close());
      }),
    );
}

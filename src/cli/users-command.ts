/**
 * @module `mraa users add NAME`: creates a user in the writer region (users replicate
 * from there), printing the generated password once.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { newestState } from '../orchestration/plan.js';
import { Deployment } from './deployment.js';
import { bold } from './format.js';
import { run } from './run.js';

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('manage users');
  users
    .command('add <name>')
    .description('create a user with a generated password (changed at first sign-in)')
    .option('--admin', 'make the user an administrator')
    .action((name: string, opts: { admin?: boolean }, cmd: Command) =>
      run(cmd, async (g) => {
        const dep = new Deployment(loadConfig(g.config));
        const { newest } = await newestState(await dep.planEnv());
        const writer = dep.region(newest?.activeRegion ?? dep.config.regions.find((r) => r.role === 'primary')!.name);
        const created = await dep.api<{ username: string; role: string; password?: string }>(writer, 'POST', '/users', {
          username: name,
          role: opts.admin ? 'admin' : 'user',
        });
        console.log(`Created ${created.role} ${bold(created.username)} in ${writer.name}.`);
        if (created.password)
          console.log(`Password: ${bold(created.password)}  (shown once; it must be changed at first sign-in)`);
      }),
    );
}

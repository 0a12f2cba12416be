/**
 * @module `mraa users`: add, list, role, sign-out and remove. Every change is made in
 * the writer region (users replicate from there); a role change, a sign-out and a
 * removal end that user's sessions in every region as the change replicates.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { newestState } from '../orchestration/plan.js';
import { Deployment } from './deployment.js';
import { bold, table } from './format.js';
import { run } from './run.js';

interface UserView {
  username: string;
  role: string;
  createdAt: string;
  mustChangePassword?: boolean;
  password?: string;
}

async function writer(g: { config?: string }) {
  const dep = new Deployment(loadConfig(g.config));
  const { newest } = await newestState(await dep.planEnv());
  const region = dep.region(newest?.activeRegion ?? dep.config.regions.find((r) => r.role === 'primary')!.name);
  return { dep, region };
}

const path = (name: string) => `/users/${encodeURIComponent(name)}`;

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('manage users');
  users
    .command('add <name>')
    .description('create a user with a generated password (changed at first sign-in)')
    .option('--admin', 'make the user an administrator')
    .action((name: string, opts: { admin?: boolean }, cmd: Command) =>
      run(cmd, async (g) => {
        const { dep, region } = await writer(g);
        const created = await dep.api<UserView>(region, 'POST', '/users', {
          username: name,
          role: opts.admin ? 'admin' : 'user',
        });
        console.log(`Created ${created.role} ${bold(created.username)} in ${region.name}.`);
        if (created.password)
          console.log(`Password: ${bold(created.password)}  (shown once; it must be changed at first sign-in)`);
      }),
    );

  users
    .command('list')
    .description('the users, as the writer region holds them')
    .action((_opts: unknown, cmd: Command) =>
      run(cmd, async (g) => {
        const { dep, region } = await writer(g);
        const { users: list } = await dep.api<{ users: UserView[] }>(region, 'GET', '/users');
        console.log(
          table(
            ['USER', 'ROLE', 'CREATED', 'NOTE'],
            list.map((u) => [u.username, u.role, u.createdAt, u.mustChangePassword ? 'must change password' : '']),
          ),
        );
      }),
    );

  users
    .command('role <name> <role>')
    .description("set a user's role (admin or user); the user's sessions end")
    .action((name: string, role: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (g) => {
        const { dep, region } = await writer(g);
        const updated = await dep.api<UserView>(region, 'PUT', `${path(name)}/role`, { role });
        console.log(`${bold(updated.username)} is now ${updated.role}; their sessions have ended.`);
      }),
    );

  users
    .command('sign-out <name>')
    .description('end every session of a user, in every region (the user signs in again)')
    .action((name: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (g) => {
        const { dep, region } = await writer(g);
        await dep.api(region, 'POST', `${path(name)}/sign-out`);
        console.log(`Signed ${bold(name)} out everywhere (in ${region.name}; other regions as it replicates).`);
      }),
    );

  users
    .command('remove <name>')
    .description('remove a user; their sessions end in every region')
    .action((name: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (g) => {
        const { dep, region } = await writer(g);
        await dep.api(region, 'DELETE', path(name));
        console.log(`Removed ${bold(name)} (in ${region.name}; other regions as it replicates).`);
      }),
    );
}

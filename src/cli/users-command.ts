/**
 * @module `mraa users`: add, list, role, sign-out and remove. Every change is made in
 * the writer region (users replicate from there); a role change, a sign-out and a
 * removal end that user's sessions in every region as the change replicates. Each
 * prints one JSON document under --json (`add`: the user with its generated password).
 */
import { Argument, type Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { newestState } from '../orchestration/plan.js';
import { Deployment } from './deployment.js';
import { EXIT } from './exit-codes.js';
import { bold, table } from './format.js';
import { type Outcome, run } from './run.js';

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
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const { dep, region } = await writer(g);
          const created = await dep.api<UserView>(region, 'POST', '/users', {
            username: name,
            role: opts.admin ? 'admin' : 'user',
          });
          out.line(`Created ${created.role} ${bold(created.username)} in ${region.name}.`);
          if (created.password)
            out.line(`Password: ${bold(created.password)}  (shown once; it must be changed at first sign-in)`);
          return { exit: EXIT.done, json: { user: created, region: region.name } };
        },
        { json: true },
      ),
    );

  users
    .command('list')
    .description('the users, as the writer region holds them')
    .action((_opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const { dep, region } = await writer(g);
          const { users: list } = await dep.api<{ users: UserView[] }>(region, 'GET', '/users');
          out.line(
            table(
              ['USER', 'ROLE', 'CREATED', 'NOTE'],
              list.map((u) => [u.username, u.role, u.createdAt, u.mustChangePassword ? 'must change password' : '']),
            ),
          );
          return { exit: EXIT.done, json: { users: list, region: region.name } };
        },
        { json: true },
      ),
    );

  users
    .command('role')
    .argument('<name>')
    .addArgument(new Argument('<role>').choices(['admin', 'user']))
    .description("set a user's role (admin or user); the user's sessions end")
    .action((name: string, role: string, _opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const { dep, region } = await writer(g);
          const updated = await dep.api<UserView>(region, 'PUT', `${path(name)}/role`, { role });
          out.line(`${bold(updated.username)} is now ${updated.role}; their sessions have ended.`);
          return { exit: EXIT.done, json: { user: updated, region: region.name } };
        },
        { json: true },
      ),
    );

  users
    .command('reset-password <name>')
    .description('give a user a new generated password, to be changed at the next sign-in; their sessions end')
    .action((name: string, _opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const { dep, region } = await writer(g);
          const reset = await dep.api<UserView>(region, 'POST', `${path(name)}/password`, {});
          out.line(`Reset the password of ${bold(reset.username)} in ${region.name}; their sessions have ended.`);
          if (reset.password)
            out.line(`Password: ${bold(reset.password)}  (shown once; it must be changed at the next sign-in)`);
          return { exit: EXIT.done, json: { user: reset, region: region.name } };
        },
        { json: true },
      ),
    );

  users
    .command('sign-out <name>')
    .description('end every session of a user, in every region (the user signs in again)')
    .action((name: string, _opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const { dep, region } = await writer(g);
          await dep.api(region, 'POST', `${path(name)}/sign-out`);
          out.line(`Signed ${bold(name)} out everywhere (in ${region.name}; other regions as it replicates).`);
          return { exit: EXIT.done, json: { signedOut: name, region: region.name } };
        },
        { json: true },
      ),
    );

  users
    .command('remove <name>')
    .description('remove a user; their sessions end in every region')
    .action((name: string, _opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const { dep, region } = await writer(g);
          await dep.api(region, 'DELETE', path(name));
          out.line(`Removed ${bold(name)} (in ${region.name}; other regions as it replicates).`);
          return { exit: EXIT.done, json: { removed: name, region: region.name } };
        },
        { json: true },
      ),
    );
}

/**
 * The `mraa` command as a script would run it (issue 15): option values refused by
 * commander before anything changes (exit 2), the exit codes (0 done, 1 failed, 2 bad
 * usage, 3 attention), one JSON document under --json, --version, shell completion,
 * colour only on a terminal; and against a real deployment, a plan whose target is
 * down refused before it fences, and a second fence or failover that has nothing to do.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, writeConfig } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { CLI, type CliResult, mraa } from '../helpers/cli.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour codes is the point
const ESC = /\u001b\[/;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, any>;
const noStack = (r: CliResult) => expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at /);

describe('mraa with regions that do not answer', () => {
  let dir: string;
  const cli = (args: string[], env: Record<string, string> = {}) => mraa(dir, args, env, 60_000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-cli-'));
    // Ports found free and let go: nothing listens there, every call is refused at once.
    const ports = await choosePorts(4, 0);
    writeConfig(
      join(dir, 'mraa.config.json'),
      defaultConfig({ edge: ports[0]!, regions: ports.slice(1, 3), witness: ports[3]! }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [['failover', '--timeout', 'abc'], /option '--timeout <seconds>' argument 'abc' is invalid/],
    [['failover', '--timeout', '-5'], /argument '-5' is invalid\. Expected a number of seconds, more than 0/],
    [['failover', '--timeout', '0'], /argument '0' is invalid/],
    [['failback', '--timeout', 'NaN'], /argument 'NaN' is invalid/],
    [
      ['drill', '--rate', '0'],
      /option '--rate <writes>' argument '0' is invalid\. Expected a whole number .* from 1 to 2000/,
    ],
    [['drill', '--rate', '1.5'], /argument '1.5' is invalid/],
    [['drill', '--phase', 'soon'], /option '--phase <seconds>' argument 'soon' is invalid/],
    [['drill', '--timeout', '-1'], /option '--timeout <seconds>' argument '-1' is invalid/],
    [
      ['verify', '--wait', 'xyz'],
      /option '--wait <seconds>' argument 'xyz' is invalid\. Expected a number of seconds, from 0/,
    ],
    [['verify', '--wait', '-1'], /argument '-1' is invalid/],
    [['fence', '--reason', ''], /option '--reason <text>' argument '' is invalid/],
    [['failover', '--to', 'Not A Region'], /option '--to <region>' argument 'Not A Region' is invalid/],
    [['region', '--region', '../x'], /option '--region <name>' argument '..\/x' is invalid/],
    [['failover', '--no-such-option'], /unknown option '--no-such-option'/],
    [['no-such-command'], /unknown command 'no-such-command'/],
    [['users', 'role', 'bob', 'superuser'], /value 'superuser' is invalid for argument 'role'/],
    [['completion', 'fish'], /value 'fish' is invalid for argument 'shell'\. Allowed choices are bash, zsh/],
    [
      ['up', '--regions', '6'],
      /option '--regions <n>' argument '6' is invalid\. Expected a number of regions from 2 to 5/,
    ],
    [['up', '--regions', '1'], /argument '1' is invalid/],
  ])('mraa %j: exit 2 with a clear message, before anything runs', async (args, message) => {
    const started = Date.now();
    const r = await cli(args);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    noStack(r);
    // Refused by the parser: no region was even asked (they would answer ECONNREFUSED).
    expect(r.stderr).not.toMatch(/ECONNREFUSED|did not answer/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('up --base-port out of range: exit 2, and no configuration is written', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'mraa-cli-up-'));
    try {
      for (const port of ['70000', 'abc', '-1']) {
        const r = await mraa(fresh, ['up', '--base-port', port], {}, 30_000);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/option '--base-port <port>' argument '.*' is invalid\. Expected a port number/);
      }
      expect(existsSync(join(fresh, 'mraa.config.json'))).toBe(false);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('up --regions N with a configuration of another region count: exit 2, saying so, nothing started', async () => {
    const r = await cli(['up', '--regions', '3']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /already exists with 2 regions .*--regions 3 applies only when creating a new configuration/,
    );
    noStack(r);
    expect(existsSync(join(dir, 'data', 'logs'))).toBe(false);
  });

  it('under --json a usage error is one JSON document on stdout, with the same exit code', async () => {
    for (const args of [
      ['failover', '--timeout', 'abc', '--json'],
      ['--json', 'drill', '--rate', '0'],
      ['--json', 'nope'],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('');
      expect(json(r).error).toMatchObject({ code: 'usage', message: expect.any(String) });
    }
    // A command that does not print JSON says so, before it does anything.
    const up = await cli(['up', '--json']);
    expect(up.code).toBe(2);
    expect(json(up).error.message).toMatch(/mraa up does not print JSON/);
  });

  it('mraa state with every region down exits 1, with or without --json', async () => {
    const text = await cli(['state']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/No region answered/);
    const doc = await cli(['state', '--json']);
    expect(doc.code).toBe(1);
    expect(json(doc)).toMatchObject({ error: { code: 'unreachable' }, newest: null });
    expect(json(doc).regions).toHaveLength(2);
  });

  it('mraa status and mraa verify with every region down exit 1', async () => {
    expect((await cli(['status'])).code).toBe(1);
    const status = await cli(['status', '--json']);
    expect(status.code).toBe(1);
    expect(json(status).error.code).toBe('unreachable');
    const verify = await cli(['verify', '--wait', '0', '--json']);
    expect(verify.code).toBe(1);
    expect(json(verify)).toMatchObject({ error: { code: 'unreachable' }, identical: false });
  });

  it('mraa conflicts with every region down does not say "No conflicts": exit 1, no region answered', async () => {
    const text = await cli(['conflicts']);
    expect(text.code).toBe(1);
    expect(text.stdout + text.stderr).not.toMatch(/No conflicts/);
    expect(text.stderr).toMatch(/No region answered/);
    const doc = await cli(['conflicts', '--json']);
    expect(doc.code).toBe(1);
    expect(json(doc).error.code).toBe('unreachable');
  });

  it('a plan with every region down does not start (exit 1); an unknown --to is bad usage (exit 2)', async () => {
    const r = await cli(['failover']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failover not started: No region answered/);
    noStack(r);
    const doc = await cli(['fence', '--json']);
    expect(doc.code).toBe(1);
    expect(json(doc)).toMatchObject({ plan: 'fence', error: { code: 'unreachable' } });
    const to = await cli(['failover', '--to', 'eu-west-9']);
    expect(to.code).toBe(2);
    expect(to.stderr).toMatch(/No region "eu-west-9"/);
  });

  it('mraa voters list with no voter answering exits 1; --json says so', async () => {
    const r = await cli(['voters', 'list', '--json']);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ error: { code: 'no_quorum' }, reachable: 0, needed: 2 });
  });

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('help lists the exit codes and the global options; help itself exits 0', async () => {
    const r = await cli(['failover', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--timeout <seconds>.*\(default: 60 s\)/s);
    expect(r.stdout).toMatch(/Global Options:.*--json/s);
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(
      /Exit codes \(every command\):\n\s+0\s+done.*2\s+bad usage.*3\s+done, but attention needed/s,
    );
  });

  it('mraa completion bash completes commands, subcommands and options (generated from the program)', async () => {
    const script = await cli(['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = join(dir, 'mraa.bash');
    writeFileSync(file, script.stdout);
    const complete = (...words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _mraa; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(complete('mraa', 'fail').split(' ').sort()).toEqual(['failback', 'failover']);
    expect(complete('mraa', 'voters', '').split(' ')).toEqual(expect.arrayContaining(['list', 'replace']));
    expect(complete('mraa', 'failover', '--t').split(' ').sort()).toEqual(['--timeout', '--to']);
    expect(complete('mraa', '--config', 'x.json', 'verify', '--w')).toBe('--wait');
    expect(complete('mraa', 'completion', '')).toMatch(/bash zsh/);
    expect(complete('mraa', '--ver')).toBe('--version');
  });

  it('mraa completion zsh prints a script for compdef', async () => {
    const r = await cli(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#compdef mraa/);
    expect(r.stdout).toMatch(/'failover:fence, wait until the target has every write/);
    expect(r.stdout).toMatch(/compdef _mraa mraa/);
    if (has('zsh')) {
      const file = join(dir, '_mraa');
      writeFileSync(file, r.stdout);
      expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
    }
  });

  it('colour only on a terminal: none when piped, FORCE_COLOR forces it, NO_COLOR turns it off', async () => {
    const plain = await cli(['failover'], { NO_COLOR: '' });
    expect(plain.stdout + plain.stderr).not.toMatch(ESC);
    const forced = await cli(['failover'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(forced.stderr).toMatch(ESC);
    const table = await cli(['state'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(table.stdout).toMatch(ESC);
    const off = await cli(['state'], { NO_COLOR: '1' });
    expect(off.stdout).not.toMatch(ESC);
  });

  it.skipIf(!has('script'))('stdout on a terminal, stderr to a file: the file gets no colour codes', () => {
    const errFile = join(dir, 'stderr.log');
    const run = (args: string) =>
      spawnSync('script', ['-qec', `${process.execPath} ${CLI} ${args} 2>${errFile}`, '/dev/null'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', TERM: 'xterm' },
      });
    const state = run('state');
    expect(state.stdout).toMatch(ESC);
    run('failover');
    const err = readFileSync(errFile, 'utf8');
    expect(err).toMatch(/failover not started/);
    expect(err).not.toMatch(ESC);
  });
});

describe('mraa against a local deployment', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterAll(async () => {
    await d?.close();
  });

  async function stateOf(region: string) {
    return (await (await fetch(`${d!.url[region]}/state/photos`)).json()) as {
      state: string;
      activeRegion: string;
      epoch: number;
    };
  }

  it('a second fence and a second failover both exit 0 with "nothing to do"; a target down is refused before the fence', async () => {
    d = await startDeployment();
    const dep = d;

    // Healthy: exit 0 (once the links have connected).
    await waitFor('mraa status to exit 0', async () => (await dep.cli(['status'])).code === 0, {
      timeoutMs: 20_000,
      intervalMs: 500,
    });

    const fence = await dep.cli(['fence']);
    expect(fence.code, fence.stdout + fence.stderr).toBe(0);
    const again = await dep.cli(['fence']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/fence: nothing to do: already fenced at epoch \d+ \(writer was us-east-1\)/);
    const againJson = await dep.cli(['fence', '--json']);
    expect(againJson.code).toBe(0);
    expect(json(againJson)).toMatchObject({ plan: 'fence', timeline: [], nothingToDo: expect.any(String) });

    const activate = await dep.cli(['activate']);
    expect(activate.code, activate.stdout + activate.stderr).toBe(0);
    const activateAgain = await dep.cli(['activate']);
    expect(activateAgain.code).toBe(0);
    expect(activateAgain.stdout).toMatch(/activate: nothing to do: not fenced/);

    const over = await dep.cli(['failover', '--json']);
    expect(over.code, over.stdout + over.stderr).toBe(0);
    expect(json(over)).toMatchObject({ plan: 'failover', record: { state: 'failover', activeRegion: S } });
    expect(json(over).timeline.map((s: { step: string }) => s.step)).toEqual(['fence', 'drain', 'switch']);
    const overAgain = await dep.cli(['failover']);
    expect(overAgain.code, overAgain.stdout + overAgain.stderr).toBe(0);
    expect(overAgain.stdout).toMatch(/failover: nothing to do: ap-northeast-1 already takes writes/);
    const back = await dep.cli(['failback']);
    expect(back.code, back.stdout + back.stderr).toBe(0);

    const added = await dep.cli(['users', 'add', 'bob', '--json']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(json(added)).toMatchObject({ user: { username: 'bob', role: 'user', password: expect.any(String) } });
    const listed = await dep.cli(['users', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(json(listed).users.map((u: { username: string }) => u.username)).toContain('bob');

    // The target goes down: the failover does not start, the writer is not fenced.
    const before = await stateOf(P);
    expect(before).toMatchObject({ state: 'active', activeRegion: P });
    await dep.kill(S);
    const refused = await dep.cli(['failover']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/failover not started: ap-northeast-1 did not answer .*the target/);
    expect(refused.stderr).toMatch(/Nothing was changed: us-east-1 still takes writes/);
    noStack(refused);
    expect(await stateOf(P)).toMatchObject({ state: 'active', activeRegion: P, epoch: before.epoch });
    const refusedJson = await dep.cli(['failover', '--json']);
    expect(refusedJson.code).toBe(1);
    expect(json(refusedJson).error).toMatchObject({ code: 'target_unreachable', changed: false });
    expect((await stateOf(P)).state).toBe('active');

    // Done, but attention needed: exit 3.
    const state = await dep.cli(['state']);
    expect(state.code, state.stdout).toBe(3);
    const stateJson = await dep.cli(['state', '--json']);
    expect(stateJson.code).toBe(3);
    expect(json(stateJson).attention).toContain(`${S} is unreachable`);
    const status = await dep.cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/Attention: .*ap-northeast-1 is down/);
    const conflicts = await dep.cli(['conflicts']);
    expect(conflicts.code).toBe(3);
    expect(conflicts.stdout).toMatch(/ap-northeast-1 did not answer: its conflicts are not listed/);
    const voters = await dep.cli(['voters', 'list']);
    expect(voters.code).toBe(3);
  });
});

/**
 * File modes (issue 13): a deployment's data is its owner's alone. `mraa region` and
 * `mraa up` refuse a data directory other users can reach and name the command that
 * fixes it; a running deployment's every folder is 0700 and every file 0600 (the
 * database and its -wal/-shm, object bodies, voter files, logs).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, writeConfig } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { mraa } from '../helpers/cli.js';
import { image } from '../helpers/images.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';

/** Every path under `dir` whose mode lets group or others in, with its mode. */
function shared(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const mode = statSync(p).mode & 0o777;
    if (mode & 0o077) out.push(`${p} ${mode.toString(8)}`);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
  return out;
}

describe('file modes', { timeout: 180_000 }, () => {
  let d: LocalDeployment | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    await d?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('mraa region and mraa up refuse a data directory others can read, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mraa-modes-'));
    dirs.push(dir);
    const ports = await choosePorts(4, 0);
    writeConfig(
      join(dir, 'mraa.config.json'),
      defaultConfig({ edge: ports[0]!, regions: ports.slice(1, 3), witness: ports[3]! }),
    );
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    for (const args of [['region', '--region', 'us-east-1'], ['up']]) {
      const res = await mraa(dir, args, {}, 30_000);
      expect(res.code, `mraa ${args.join(' ')}`).not.toBe(0);
      expect(res.stderr).toContain(`the data directory ${data} has mode 755`);
      expect(res.stderr).toContain(`chmod -R go-rwx ${data}`);
    }
    // Nothing was started or written in it.
    expect(readdirSync(data)).toEqual([]);
  });

  it('keeps every folder 0700 and every file 0600 in a running deployment', async () => {
    d = await startDeployment();
    const url = d.url['us-east-1']!;
    const res = await fetch(`${url}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'image/png' },
      body: await image('png', 64, 64),
    });
    expect(res.status).toBe(201);
    const dataRoot = join(d.dir, d.config.dataDir);
    const files = readdirSync(join(dataRoot, 'us-east-1'));
    expect(files).toEqual(expect.arrayContaining(['region.db', 'region.db-wal', 'region.db-shm', 'blobs']));
    expect(statSync(join(dataRoot, 'us-east-1', 'region.db')).mode & 0o777).toBe(0o600);
    expect(statSync(dataRoot).mode & 0o777).toBe(0o700);
    expect(shared(dataRoot)).toEqual([]);
    expect(statSync(join(d.dir, 'mraa.config.json')).mode & 0o777).toBe(0o600);
  });
});

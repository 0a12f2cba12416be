/**
 * `mraa init` (issue 15, hosts): a configuration for named hosts that loads as written,
 * mode 0600, the regions, witness and URLs as given, generated secrets; never over an
 * existing file; bad arguments exit 2 and write nothing.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { mraa } from '../helpers/cli.js';

const REGIONS = [
  '--region',
  'us-east-1=https://use1.example.com:7101',
  '--region',
  'eu-west-1=https://euw1.example.com:7101',
  '--witness',
  'witness=https://wit.example.com:7103',
];
const TLS = [
  '--tls-ca',
  '/etc/mraa/tls/ca.crt',
  '--tls-cert',
  '/etc/mraa/tls/host.crt',
  '--tls-key',
  '/etc/mraa/tls/host.key',
];

describe('mraa init', () => {
  let dir: string;
  const file = () => join(dir, 'mraa.config.json');
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-init-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a configuration for two regions and a witness that loads, mode 0600, and says what to run where', async () => {
    const r = await mraa(dir, ['init', ...REGIONS, ...TLS], {}, 30_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    const config = loadConfig(file());
    expect(config.regions).toEqual([
      { name: 'us-east-1', url: 'https://use1.example.com:7101', role: 'primary', listen: '0.0.0.0:7101' },
      { name: 'eu-west-1', url: 'https://euw1.example.com:7101', role: 'secondary', listen: '0.0.0.0:7101' },
    ]);
    expect(config.controlPlane).toMatchObject({
      kind: 'voters',
      witnesses: [{ name: 'witness', url: 'https://wit.example.com:7103', listen: '0.0.0.0:7103' }],
    });
    expect(config.edge).toEqual({ url: 'https://use1.example.com:7100', listen: '0.0.0.0:7100' });
    expect(config.tls).toEqual({
      caFile: '/etc/mraa/tls/ca.crt',
      certFile: '/etc/mraa/tls/host.crt',
      keyFile: '/etc/mraa/tls/host.key',
    });
    expect(config.dataDir).toBe('/var/lib/mraa');
    expect(config.secrets.tokenKey).not.toBe(config.secrets.replicationKey);
    expect(config.secrets.tokenKey.length).toBeGreaterThanOrEqual(32);
    // What to run on each host, the unit to enable, and the start order (the witness first).
    for (const line of [
      'mraa region --region us-east-1',
      'mraa region --region eu-west-1',
      'mraa witness --name witness',
      'mraa edge',
      'systemctl enable --now mraa-region@us-east-1',
      'systemctl enable --now mraa-witness',
      'systemctl enable --now mraa-edge',
      '/etc/mraa/mraa.config.json',
      'deploy/systemd',
    ])
      expect(r.stdout).toContain(line);
    expect(r.stdout.indexOf('systemctl enable --now mraa-witness')).toBeLessThan(
      r.stdout.indexOf('systemctl enable --now mraa-region@us-east-1'),
    );
    // A second init never overwrites it.
    const before = readFileSync(file(), 'utf8');
    const again = await mraa(dir, ['init', ...REGIONS], {}, 30_000);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: mraa init never overwrites/);
    expect(readFileSync(file(), 'utf8')).toBe(before);
  });

  it('--primary, --etcd, --data-dir and --json', async () => {
    const r = await mraa(
      dir,
      [
        'init',
        '--json',
        '--region',
        'a=http://10.0.0.1:7101',
        '--region',
        'b=http://10.0.0.2:7101',
        '--region',
        'c=http://10.0.0.3:7101',
        '--primary',
        'b',
        '--etcd',
        'http://10.0.0.9:2379,http://10.0.0.10:2379',
        '--data-dir',
        '/srv/mraa',
      ],
      {},
      30_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ process: string; run: string }>; controlPlane: string };
    expect(doc.controlPlane).toBe('etcd');
    expect(doc.hosts.map((h) => h.process)).toEqual(['a', 'b', 'c', 'edge']);
    const config = loadConfig(file());
    expect(config.regions.find((x) => x.role === 'primary')!.name).toBe('b');
    expect(config.controlPlane).toMatchObject({
      kind: 'etcd',
      witnesses: [],
      etcd: { endpoints: ['http://10.0.0.9:2379', 'http://10.0.0.10:2379'] },
    });
    expect(config.edge.url).toBe('http://10.0.0.2:7100');
    expect(config.dataRoot).toBe('/srv/mraa');
  });

  it.each([
    [['init'], /give two or more regions/],
    [['init', '--region', 'a=http://h:1', '--witness', 'w=http://w:2'], /give two or more regions/],
    [['init', '--region', 'a=http://h:1', '--region', 'b=http://i:1'], /give a witness .* or an etcd cluster/],
    [
      ['init', '--region', 'a=http://h:1', '--region', 'b=http://i'],
      /argument 'b=http:\/\/i' is invalid\. Expected a port/,
    ],
    [['init', '--region', 'Bad=http://h:1'], /Expected a name of lower-case letters/],
    [['init', '--region', 'a'], /Expected NAME=URL/],
    [['init', '--region', 'a=ftp://h:1'], /http:\/\/ or https:\/\//],
    [['init', ...REGIONS, '--primary', 'nope'], /--primary nope is not one of the regions/],
    [['init', ...REGIONS, '--tls-ca', 'ca.crt'], /--tls-ca, --tls-cert and --tls-key go together/],
    [['init', ...REGIONS, '--etcd', 'http://e:2379'], /either --witness .* or --etcd, not both/],
    [
      ['init', '--region', 'a=http://h:1', '--region', 'b=http://h:1', '--witness', 'w=http://w:2'],
      /a and b are both at h:1/,
    ],
    [
      ['init', '--region', 'a=http://h:1', '--region', 'a=http://i:1', '--witness', 'w=http://w:2'],
      /region names are unique/,
    ],
    [['init', '--region', 'a=http://h:1', '--region', 'b=http://i:1', '--witness', 'w=http://w:2', ...TLS], /https/],
  ])('mraa %j: exit 2, nothing written', async (args, message) => {
    const r = await mraa(dir, args, {}, 30_000);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at /);
    expect(existsSync(file())).toBe(false);
  });

  it('refuses an existing file it did not write', async () => {
    writeFileSync(file(), '{}', { mode: 0o600 });
    const r = await mraa(dir, ['init', ...REGIONS], {}, 30_000);
    expect(r.code).toBe(2);
    expect(readFileSync(file(), 'utf8')).toBe('{}');
  });
});

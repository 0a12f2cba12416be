import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, writeConfig } from './config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  delete process.env.MRAA_TEST_TOKEN_KEY;
});

function configWith(secrets: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mraa-secrets-'));
  dirs.push(dir);
  const base = defaultConfig({ edge: 7100, regions: [7101, 7102], witness: 7103 });
  const file = join(dir, 'mraa.config.json');
  writeConfig(file, { ...base, secrets: { ...base.secrets, ...secrets } } as never);
  return file;
}

describe('secrets from the environment or a file', () => {
  it('reads {"env"} and {"file"} for any secret, previous token keys included', () => {
    process.env.MRAA_TEST_TOKEN_KEY = 'k'.repeat(40);
    const file = configWith({
      tokenKey: { env: 'MRAA_TEST_TOKEN_KEY' },
      replicationKey: { file: 'replication.key' },
      previousTokenKeys: [{ file: 'replication.key' }],
    });
    writeFileSync(join(file, '..', 'replication.key'), `${'r'.repeat(40)}\n`, { mode: 0o600 });
    const config = loadConfig(file);
    expect(config.secrets.tokenKey).toBe('k'.repeat(40));
    expect(config.secrets.replicationKey).toBe('r'.repeat(40));
    expect(config.secrets.previousTokenKeys).toEqual(['r'.repeat(40)]);
  });

  it('refuses an unset variable, and a file others can read with the chmod that fixes it', () => {
    expect(() => loadConfig(configWith({ tokenKey: { env: 'MRAA_TEST_TOKEN_KEY' } }))).toThrow(
      /secrets.tokenKey: the environment variable MRAA_TEST_TOKEN_KEY is not set/,
    );
    const file = configWith({ replicationKey: { file: 'replication.key' } });
    const key = join(file, '..', 'replication.key');
    writeFileSync(key, 'r'.repeat(40));
    chmodSync(key, 0o644);
    expect(() => loadConfig(file)).toThrow(ConfigError);
    expect(() => loadConfig(file)).toThrow(`run: chmod 600 ${key}`);
  });
});

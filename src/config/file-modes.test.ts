import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePrivateDataDir } from './file-modes.js';

describe('data directory modes', () => {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'mraa-modes-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates a missing data directory 0700', () => {
    const dir = join(temp(), 'a', 'data');
    requirePrivateDataDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('accepts a directory only its owner can reach', () => {
    const dir = temp();
    chmodSync(dir, 0o700);
    expect(() => requirePrivateDataDir(dir)).not.toThrow();
  });

  it('refuses one that others can read or enter, with the command that fixes it', () => {
    for (const mode of [0o755, 0o750, 0o701, 0o770]) {
      const dir = join(temp(), "it's data");
      requirePrivateDataDir(dir);
      chmodSync(dir, mode);
      expect(() => requirePrivateDataDir(dir)).toThrow(
        `has mode ${mode.toString(8)}: other users can reach its password hashes and data`,
      );
      expect(() => requirePrivateDataDir(dir)).toThrow(`chmod -R go-rwx '${dir.replace(/'/g, `'\\''`)}'`);
    }
  });
});

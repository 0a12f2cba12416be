import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { syncedFileStream } from './synced-file.js';

describe('syncedFileStream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mraa-synced-'));

  it('writes every byte, in order, through several periodic syncs, to a new 0600 file', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) =>
      data.subarray(i * 65536, (i + 1) * 65536),
    );
    const path = join(dir, 'body');
    await pipeline(Readable.from(chunks), syncedFileStream(path, 1024 * 1024));
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('never overwrites a file that exists', async () => {
    const path = join(dir, 'taken');
    writeFileSync(path, 'keep me');
    await expect(pipeline(Readable.from([Buffer.from('other')]), syncedFileStream(path))).rejects.toThrow(/EEXIST/);
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });
});

import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DurableVoterState } from '../../ports/voter-protocol.js';
import { VOTER_FILE_COMPACT_BYTES, VoterFiles } from './voter-files.js';

const state = (n: number): DurableVoterState => ({ promise: { n, by: 'r1' }, accepted: null });

describe('voter files', () => {
  const dirs: string[] = [];
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'mraa-voter-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('loads the last state saved, across a reopen', async () => {
    const d = await dir();
    const files = new VoterFiles(d);
    expect(await files.load('photos')).toBeUndefined();
    for (let n = 1; n <= 5; n++) await files.save('photos', state(n));
    await files.close();
    expect(await new VoterFiles(d).load('photos')).toEqual(state(5));
  });

  it('keeps the previous state when a crash tore the last line, and appends cleanly after it', async () => {
    const d = await dir();
    const files = new VoterFiles(d);
    await files.save('photos', state(1));
    await files.close();
    await appendFile(join(d, 'photos.log'), '{"promise":{"n":2,"by":"r');
    const again = new VoterFiles(d);
    expect(await again.load('photos')).toEqual(state(1));
    await again.save('photos', state(3));
    await again.close();
    expect(await new VoterFiles(d).load('photos')).toEqual(state(3));
  });

  it('rewrites the file past its size bound, keeping only the current state', async () => {
    const d = await dir();
    const files = new VoterFiles(d);
    const big = (n: number): DurableVoterState => ({ promise: { n, by: 'x'.repeat(1000) }, accepted: null });
    for (let n = 1; n <= (VOTER_FILE_COMPACT_BYTES / 1000) * 1.5; n++) await files.save('photos', big(n));
    const last = big(Math.floor((VOTER_FILE_COMPACT_BYTES / 1000) * 1.5));
    await files.close();
    expect((await stat(join(d, 'photos.log'))).size).toBeLessThan(VOTER_FILE_COMPACT_BYTES);
    expect(await new VoterFiles(d).load('photos')).toEqual(last);
  });

  it('reads the state an older version kept in one JSON file', async () => {
    const d = await dir();
    await writeFile(join(d, 'photos.json'), JSON.stringify(state(7)));
    const files = new VoterFiles(d);
    expect(await files.load('photos')).toEqual(state(7));
    await files.save('photos', state(8));
    await files.close();
    expect(await new VoterFiles(d).load('photos')).toEqual(state(8));
    expect(await readFile(join(d, 'photos.log'), 'utf8')).toContain('"n":8');
  });
});

/**
 * @module A voter's durable state on disk: one JSON file per app under the voter's
 * folder, replaced atomically (written to a temporary file, fsynced, renamed, the
 * folder fsynced) so a crash leaves either the old promise or the new one, never a
 * torn file. A voter answers only after `save` has resolved.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { DurableVoterState } from '../../ports/voter-protocol.js';
import { fsyncDirectory } from '../disk/blob-files.js';
import type { VoterStorage } from './voter.js';

export class VoterFiles implements VoterStorage {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  async load(appId: string): Promise<DurableVoterState | undefined> {
    try {
      return JSON.parse(await readFile(this.file(appId), 'utf8')) as DurableVoterState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async save(appId: string, state: DurableVoterState): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.ready;
    const tmp = `${this.file(appId)}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file(appId));
    await fsyncDirectory(this.dir);
  }

  private file(appId: string): string {
    return join(this.dir, `${encodeURIComponent(appId)}.json`);
  }
}

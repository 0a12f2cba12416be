/**
 * @module A voter's durable state on disk: one append-only file per app under the
 * voter's folder, a JSON line per save, each made durable by one fdatasync before
 * `save` resolves (a voter answers only after that). Loading takes the last complete
 * line, so a crash mid-append leaves the previous state. Past a size bound the file is
 * rewritten with only the current state (a temporary file, fsynced, renamed, the
 * folder fsynced), rarely: one fdatasync per promise or accepted value is what keeps
 * a state change fast.
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { DurableVoterState } from '../../ports/voter-protocol.js';
import { fsyncDirectory } from '../disk/blob-files.js';
import type { VoterStorage } from './voter.js';

/** Past this many bytes a state file is rewritten with only its last state. */
export const VOTER_FILE_COMPACT_BYTES = 256 * 1024;

interface OpenFile {
  handle: FileHandle;
  size: number;
}

export class VoterFiles implements VoterStorage {
  private ready: Promise<unknown> | undefined;
  private readonly files = new Map<string, Promise<OpenFile>>();

  constructor(private readonly dir: string) {}

  async load(appId: string): Promise<DurableVoterState | undefined> {
    const text = await readIfExists(this.file(appId));
    if (text === undefined) {
      // The state as an older version kept it: one JSON document.
      const legacy = await readIfExists(this.legacyFile(appId));
      return legacy ? (JSON.parse(legacy) as DurableVoterState) : undefined;
    }
    // The last complete line: a line cut by a crash does not end with a newline.
    const lines = text.split('\n');
    for (let i = lines.length - 2; i >= 0; i--) {
      try {
        return JSON.parse(lines[i]!) as DurableVoterState;
      } catch {
        /* a torn line: take the one before */
      }
    }
    return undefined;
  }

  async save(appId: string, state: DurableVoterState): Promise<void> {
    const line = `${JSON.stringify(state)}\n`;
    const file = await this.open(appId);
    if (file.size + line.length > VOTER_FILE_COMPACT_BYTES) return this.rewrite(appId, file, line);
    await file.handle.appendFile(line);
    file.size += Buffer.byteLength(line);
    await file.handle.datasync();
  }

  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.all(files.map(async (f) => (await f).handle.close()));
  }

  /** Replaces the file with one holding only `line`, atomically, and reopens it for appending. */
  private async rewrite(appId: string, file: OpenFile, line: string): Promise<void> {
    const tmp = `${this.file(appId)}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(line);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file(appId));
    await fsyncDirectory(this.dir);
    await file.handle.close();
    file.handle = await open(this.file(appId), 'a', 0o600);
    file.size = Buffer.byteLength(line);
  }

  private open(appId: string): Promise<OpenFile> {
    let file = this.files.get(appId);
    if (!file) {
      file = (async () => {
        this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
        await this.ready;
        const handle = await open(this.file(appId), 'a', 0o600);
        // A line torn by a crash is cut off, or the next one would be glued to it.
        const text = await readFile(this.file(appId), 'utf8');
        const size = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
        if (size !== Buffer.byteLength(text)) await handle.truncate(size);
        // A file created just now: its directory entry must survive a crash too.
        if (size === 0) await fsyncDirectory(this.dir);
        return { handle, size };
      })();
      this.files.set(appId, file);
      file.catch(() => this.files.delete(appId));
    }
    return file;
  }

  private file(appId: string): string {
    return join(this.dir, `${encodeURIComponent(appId)}.log`);
  }

  /** Where an older version kept the state (one JSON document, replaced by rename). */
  private legacyFile(appId: string): string {
    return join(this.dir, `${encodeURIComponent(appId)}.json`);
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Runs the conformance suites against the embedded adapters (SQLite tables, disk objects).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openEmbeddedStorage } from '../../src/adapters/embedded.js';
import { waitFor } from '../helpers/wait.js';
import { type ObjectStoreHandle, objectStoreConformance } from './object-store.case.js';
import { tableStoreConformance } from './table-store.case.js';

tableStoreConformance('embedded SQLite', async (tables) => {
  const root = await mkdtemp(join(tmpdir(), 'mraa-tables-'));
  const storage = await openEmbeddedStorage(join(root, 'data'), tables);
  return {
    store: storage.tables,
    close: async () => {
      await storage.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(p, ...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function openObjects(root: string): Promise<ObjectStoreHandle> {
  const dataDir = join(root, 'data');
  const storage = await openEmbeddedStorage(dataDir, []);
  const handle: ObjectStoreHandle = {
    store: storage.objects,
    close: async () => {
      await storage.close();
      await rm(root, { recursive: true, force: true });
    },
    reopen: async () => {
      await storage.close();
      return openObjects(root);
    },
    killDuringPut: async (bucket, key) => {
      await storage.close();
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/endless-put.ts', dataDir, bucket, key], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      // Kill once more than 2 MiB of the body is on disk.
      await waitFor('the body to reach the disk', async () => {
        const tmp = join(dataDir, 'blobs', 'tmp');
        for (const f of await readdir(tmp)) if ((await stat(join(tmp, f))).size > 2 * 1024 * 1024) return true;
        return false;
      });
      child.kill('SIGKILL');
      await exited;
    },
    pathsOutsideStore: async () => {
      const allowed =
        /^data(\/(region\.db(-wal|-shm)?|blobs(\/tmp(\/[0-9a-z-]+)?|\/[0-9a-f]{2}(\/[0-9a-f]{2}(\/[0-9a-f]{64})?)?)?))?$/;
      return (await walk(root)).map((p) => relative(root, p)).filter((p) => !allowed.test(p));
    },
  };
  return handle;
}

objectStoreConformance('embedded disk', async () => openObjects(await mkdtemp(join(tmpdir(), 'mraa-objects-'))));

/**
 * Issue 12, case 6, with real processes: a peer down for long no longer fills the
 * healthy region's disk. Past the retention cap (set low here) the peer is marked as
 * needing a rebuild, the log is compacted past it, the writer keeps answering 201, and
 * /status and `mraa status` say in plain words what to run; the peer, once back, is
 * told it must be rebuilt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { postComments } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const CAP = 64 * 1024;

async function status(d: LocalDeployment, region: string) {
  const res = await fetch(`${d.url[region]}/status`, { headers: { authorization: `Bearer ${d.adminToken}` } });
  return (await res.json()) as {
    log: { head: number; tail: number; entries: number };
    peers: Array<{
      name: string;
      backlog: { entries: number; bytes: number };
      state: { kind: string; message?: string };
    }>;
    origins: Array<{ name: string; state: { kind: string; message?: string } }>;
  };
}

describe('retention cap (issue 12, case 6)', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('marks a peer down past the cap as needing a rebuild, compacts past it, and the writer keeps working', async () => {
    d = await startDeployment({
      customize: (c) => ({ ...c, settings: { ...c.settings, maxPeerBacklogBytes: CAP } }),
    });
    const dep = d;
    const upload = await fetch(`${dep.url[P]}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'image/png' },
      body: await image('png', 40, 40),
    });
    expect(upload.status).toBe(201);
    const { photoId } = (await upload.json()) as { photoId: string };
    await waitFor('the photo in the secondary', async () => (await status(dep, P)).peers[0]!.backlog.entries === 0);

    await dep.kill(S);
    // Well past the cap: a few hundred comments of a few hundred bytes each.
    const load = await postComments(dep.url[P]!, dep.adminToken, photoId, 600, { concurrency: 8 });
    expect(load.failed, JSON.stringify([...load.errors])).toBe(0);
    const marked = await waitFor('the peer to be marked as needing a rebuild', async () => {
      const s = await status(dep, P);
      return s.peers[0]!.state.kind === 'needs-rebuild' ? s : undefined;
    });
    expect(marked.peers[0]!.state).toMatchObject({ kind: 'needs-rebuild', reason: 'retention' });
    expect(marked.peers[0]!.state.message).toBe(
      `${S} fell behind by more than 64.0 KiB and must be rebuilt: run mraa region --region ${S} --rebuild on its host`,
    );
    // The log no longer keeps anything for it.
    await waitFor('the log to be compacted past the peer', async () => (await status(dep, P)).log.entries < 50);
    // The writer keeps working.
    const more = await postComments(dep.url[P]!, dep.adminToken, photoId, 50, { concurrency: 4, prefix: 'after' });
    expect(more.acked.length).toBe(50);

    const cli = await dep.cli(['status']);
    expect(cli.stdout).toContain(
      `${S} fell behind by more than 64.0 KiB and must be rebuilt: run mraa region --region ${S} --rebuild on its host`,
    );

    // Back up, the peer hears that it must be rebuilt; the mark survives a restart of the writer.
    await dep.restart(S);
    const told = await waitFor('the peer to hear it must be rebuilt', async () => {
      const o = (await status(dep, S)).origins.find((x) => x.name === P)!;
      return o.state.kind === 'needs-rebuild' ? o : undefined;
    });
    expect(told.state.message).toContain('must be rebuilt');
    await dep.kill(P);
    await dep.restart(P);
    expect((await status(dep, P)).peers[0]!.state.kind).toBe('needs-rebuild');
    const after = await postComments(dep.url[P]!, dep.adminToken, photoId, 10, { concurrency: 2, prefix: 'later' });
    expect(after.acked.length).toBe(10);
  });
});

/**
 * @module The few region API calls the orchestrator makes around measurements:
 * replication figures (`GET /status`), waiting for a peer to catch up, and a small
 * photo to comment on.
 */
import sharp from 'sharp';
import { sleep } from './clock.js';

export interface PeerStatus {
  name: string;
  connected: boolean;
  ackedSeq: number;
  backlog: { entries: number; bytes: number };
  lagMs: number;
}

export interface RegionStatus {
  region: string;
  log: { head: number; tail: number; entries: number };
  peers: PeerStatus[];
}

export async function regionStatus(url: string, token: string): Promise<RegionStatus> {
  const res = await fetch(`${url}/status`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET ${url}/status: HTTP ${res.status}`);
  return (await res.json()) as RegionStatus;
}

/** Waits until every peer of the region at `url` has acknowledged its whole log; returns how long it took. */
export async function waitCaughtUp(url: string, token: string, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const s = await regionStatus(url, token);
    if (s.peers.every((p) => p.ackedSeq >= s.log.head)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`peers of ${url} did not catch up in ${timeoutMs} ms: ${JSON.stringify(s.peers)}`);
    await sleep(20);
  }
}

/** Uploads a small PNG and returns its photo id. */
export async function uploadSmallPhoto(url: string, token: string): Promise<string> {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 140, b: 90 } } })
    .png()
    .toBuffer();
  const res = await fetch(`${url}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
    body: new Uint8Array(png),
  });
  if (res.status !== 201) throw new Error(`photo upload: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { photoId: string }).photoId;
}

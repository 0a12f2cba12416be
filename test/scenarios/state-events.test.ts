/**
 * Live state: every change is pushed on `/state/{appId}/events` of every region;
 * the test reports how long each took to arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { type SseSubscription, subscribe } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

describe('live state events', { timeout: 60_000 }, () => {
  let d: LocalDeployment;
  const subs: SseSubscription[] = [];
  beforeAll(async () => {
    d = await startDeployment();
  });
  afterAll(async () => {
    for (const s of subs) s.close();
    await d.close();
  });

  it('pushes every change to subscribers of every region', async () => {
    for (const r of d.config.regions) subs.push(await subscribe(`${r.url}/state/photos/events`));
    await waitFor('the first event of every stream', () => subs.every((s) => s.events.length > 0));
    const delays: number[] = [];
    for (const state of ['fenced', 'active', 'fenced', 'active']) {
      const sent = performance.now();
      const res = await fetch(`${d.url['us-east-1']}/state/photos`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ state }),
      });
      expect(res.status).toBe(200);
      const { epoch } = (await res.json()) as { epoch: number };
      for (const s of subs) {
        await waitFor(
          `epoch ${epoch} on every stream`,
          () => s.events.some((e) => JSON.parse(e.data).epoch === epoch),
          { intervalMs: 1 },
        );
        delays.push(performance.now() - sent);
      }
    }
    delays.sort((a, b) => a - b);
    console.log(
      `state change → event at subscribers of both regions: median ${delays[delays.length >> 1]!.toFixed(1)} ms, max ${delays[delays.length - 1]!.toFixed(1)} ms`,
    );
    for (const s of subs) {
      const epochs = s.events.map((e) => JSON.parse(e.data).epoch as number);
      expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
    }
  });
});

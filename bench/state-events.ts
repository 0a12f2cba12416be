/**
 * @module Delivery of state changes to subscribed clients: many subscribers of
 * `GET /state/{appId}/events`, spread over the regions (each its own connection);
 * the primary is fenced and activated in turn, and each subscriber's receipt of each
 * new epoch is timed from the moment the `PUT /state/{appId}` was sent.
 */
import { sleep } from './clock.js';
import { sendJson } from './http-client.js';
import { subscribeSse } from './sse-client.js';

export interface StateEventsArgs {
  appId: string;
  regions: Array<{ name: string; url: string }>;
  primary: string;
  token: string;
  subscribers: number;
  changes: number;
  timeoutMs: number;
}

export interface Delivery {
  change: number;
  kind: 'fenced' | 'active';
  region: string;
  ms: number;
}

export interface StateEventsResult {
  deliveries: Delivery[];
  /** PUT round trips (the commit of each change). */
  putMs: number[];
  missed: number;
}

export async function stateEventDelivery(a: StateEventsArgs): Promise<StateEventsResult> {
  const subs = Array.from({ length: a.subscribers }, (_, i) => {
    const region = a.regions[i % a.regions.length]!;
    const seen = new Map<number, bigint>();
    const source = subscribeSse(`${region.url}/state/${encodeURIComponent(a.appId)}/events`, (event) => {
      if (event.event !== 'state') return;
      const epoch = (JSON.parse(event.data) as { epoch: number }).epoch;
      if (!seen.has(epoch)) seen.set(epoch, event.atNs);
    });
    return { region: region.name, seen, source };
  });
  const primaryUrl = a.regions.find((r) => r.name === a.primary)!.url;
  const deliveries: Delivery[] = [];
  const putMs: number[] = [];
  let missed = 0;
  try {
    await Promise.all(subs.map((s) => s.source.opened));
    await until(() => subs.every((s) => s.seen.size > 0), a.timeoutMs, 'every subscriber to receive the current state');
    for (let change = 0; change < a.changes; change++) {
      const kind = change % 2 === 0 ? 'fenced' : 'active';
      const body =
        kind === 'fenced'
          ? { state: 'fenced', reason: 'bench: state event delivery' }
          : { state: 'active', activeRegion: a.primary, reason: 'bench' };
      const res = await sendJson('PUT', primaryUrl, `/state/${encodeURIComponent(a.appId)}`, body, a.token);
      const sent = res.sentNs;
      putMs.push(Number(res.ackNs - sent) / 1e6);
      if (res.status !== 200) throw new Error(`PUT state ${kind}: HTTP ${res.status} ${res.body}`);
      const epoch = (JSON.parse(res.body) as { epoch: number }).epoch;
      await until(() => subs.every((s) => s.seen.has(epoch)), a.timeoutMs, `epoch ${epoch} at every subscriber`).catch(
        () => undefined,
      );
      for (const s of subs) {
        const at = s.seen.get(epoch);
        if (at === undefined) missed++;
        else deliveries.push({ change, kind, region: s.region, ms: Number(at - sent) / 1e6 });
      }
      await sleep(50 + Math.random() * 100);
    }
  } finally {
    for (const s of subs) s.source.close();
  }
  return { deliveries, putMs, missed };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

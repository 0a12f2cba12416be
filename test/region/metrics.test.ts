/**
 * A region's /metrics (issue 15): `promtool check metrics` clean on a live scrape,
 * Node's default metrics under their standard names, only counters ending in `_total`,
 * the replication, fsync and transition series present, the scrape token accepted from
 * another host, and every series the Grafana dashboard (deploy/grafana/mraa.json) queries
 * present in a scrape.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegion } from '../../src/region/region.js';
import { call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { checkMetrics, promtoolAvailable } from '../helpers/promtool.js';
import { waitFor } from '../helpers/wait.js';

const METRICS_TOKEN = 'scrape-token-for-the-metrics-test-0123456789';

/** Metric families declared in an exposition (`# TYPE name type`). */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Every series name a scrape can answer a query for (histograms: _bucket, _sum, _count). */
function seriesNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of families(text)) {
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

/** The value of one sample (the first matching every label given). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/gm)) {
    if (m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

describe('region metrics', () => {
  let fx: Fixture;
  let primary: RunningRegion;
  let admin: string;
  const scrape = async (url: string) => {
    const res = await fetch(new URL('/metrics', url));
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    fx = await createFixture((c) => ({ ...c, secrets: { ...c.secrets, metricsToken: METRICS_TOKEN } }));
    primary = await fx.start('us-east-1');
    await fx.start('ap-northeast-1');
    admin = await fx.token('admin', 'admin');
    // A fence and a lift, and writes to ship (the admin user, the state records).
    expect(
      (await call(fx.url('us-east-1'), 'PUT', '/state/photos', { json: { state: 'fenced' }, token: admin })).status,
    ).toBe(200);
    expect(
      (await call(fx.url('us-east-1'), 'PUT', '/state/photos', { json: { state: 'active' }, token: admin })).status,
    ).toBe(200);
    await waitFor('entries of us-east-1 applied in ap-northeast-1', async () => {
      const applied = sample(await scrape(fx.url('ap-northeast-1')), 'mraa_replication_applied_entries_total', {
        origin: 'us-east-1',
      });
      return (applied ?? 0) > 0;
    });
  }, 60_000);
  afterAll(async () => fx?.close());

  it('passes promtool check metrics', async (ctx) => {
    if (!promtoolAvailable()) ctx.skip(true, 'promtool is not installed (Debian: apt-get install prometheus)');
    for (const region of ['us-east-1', 'ap-northeast-1']) {
      const result = checkMetrics(await scrape(fx.url(region)));
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    }
  });

  it("serves Node's default metrics under their standard names, and only counters end in _total", async () => {
    const text = await scrape(fx.url('us-east-1'));
    const types = families(text);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(types.has(name), name).toBe(true);
    expect(text).not.toContain('mraa_process_');
    for (const [name, type] of types) if (name.endsWith('_total')) expect(type, name).toBe('counter');
    for (const [name, type] of types) if (type === 'counter') expect(name, name).toMatch(/_total$/);
  });

  it('counts what is shipped, applied, synced and transitioned, with one name per lag', async () => {
    const east = await scrape(fx.url('us-east-1'));
    const ap = await scrape(fx.url('ap-northeast-1'));
    const types = families(east);
    expect(types.get('mraa_replication_backlog_age_seconds')).toBe('gauge');
    expect(types.get('mraa_replication_apply_lag_seconds')).toBe('gauge');
    expect(types.has('mraa_replication_lag_seconds')).toBe(false);
    expect(types.has('mraa_replica_lag_seconds')).toBe(false);
    expect(types.get('mraa_changelog_head_sequence_total')).toBe('counter');
    expect(types.get('mraa_wal_fsync_duration_seconds')).toBe('histogram');
    expect(sample(east, 'mraa_replication_shipped_entries_total', { peer: 'ap-northeast-1' })).toBeGreaterThan(0);
    expect(sample(east, 'mraa_replication_shipped_bytes_total', { peer: 'ap-northeast-1' })).toBeGreaterThan(0);
    expect(sample(ap, 'mraa_replication_applied_entries_total', { origin: 'us-east-1' })).toBeGreaterThan(0);
    expect(sample(ap, 'mraa_replication_applied_bytes_total', { origin: 'us-east-1' })).toBeGreaterThan(0);
    expect(sample(ap, 'mraa_replication_applied_sequence_total', { origin: 'us-east-1' })).toBeGreaterThan(0);
    expect(sample(east, 'mraa_wal_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(sample(east, 'mraa_state_transitions_total', { kind: 'fence' })).toBe(1);
    expect(sample(east, 'mraa_state_transitions_total', { kind: 'lift' })).toBe(1);
    expect(sample(east, 'mraa_state_transitions_total', { kind: 'forced-switch' })).toBe(0);
    expect(sample(east, 'mraa_state_writer', { state: 'active', active_region: 'us-east-1' })).toBe(1);
  });

  it('accepts the scrape token from another host, and nothing else but an admin', async () => {
    const get = (headers: Record<string, string>) =>
      primary.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.10', headers });
    expect((await get({})).statusCode).toBe(401);
    expect((await get({ authorization: 'Bearer not-the-token' })).statusCode).toBe(401);
    const scraped = await get({ authorization: `Bearer ${METRICS_TOKEN}` });
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toContain('mraa_state_epoch');
    expect((await get({ authorization: `Bearer ${admin}` })).statusCode).toBe(200);
  });

  it('the Grafana dashboard queries only series a region serves', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/mraa.json', import.meta.url), 'utf8'));
    const exprs: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object')
        for (const [k, v] of Object.entries(node)) {
          if ((k === 'expr' || k === 'query' || k === 'definition') && typeof v === 'string') exprs.push(v);
          else walk(v);
        }
    };
    walk(dashboard);
    expect(exprs.length).toBeGreaterThan(20);
    const served = new Set([
      ...seriesNames(await scrape(fx.url('us-east-1'))),
      ...seriesNames(await scrape(fx.url('ap-northeast-1'))),
    ]);
    const referenced = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(?:mraa|process|nodejs)_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    expect(referenced.size).toBeGreaterThan(20);
    for (const name of referenced) expect(served.has(name), `${name} (in deploy/grafana/mraa.json)`).toBe(true);
  });
});

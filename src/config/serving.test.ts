import { describe, expect, it } from 'vitest';
import { configSchema, defaultConfig } from './config.js';
import { listenAddress } from './serving.js';

describe('listen addresses', () => {
  it("defaults to the URL's host and port", () => {
    expect(listenAddress('http://127.0.0.1:7101')).toEqual({ host: '127.0.0.1', port: 7101 });
    expect(listenAddress('https://[::1]:7443')).toEqual({ host: '::1', port: 7443 });
  });

  it('takes listen over the URL', () => {
    expect(listenAddress('https://r1.example.com', '0.0.0.0:7101')).toEqual({ host: '0.0.0.0', port: 7101 });
    expect(listenAddress('https://r1.example.com', '[::]:443')).toEqual({ host: '::', port: 443 });
  });

  it('refuses a URL without a port and no listen, naming the fix', () => {
    const base = defaultConfig({ edge: 7100, regions: [7101, 7102], witness: 7103 });
    const bad = {
      ...base,
      regions: base.regions.map((r, i) => (i === 0 ? { ...r, url: 'https://r1.example.com' } : r)),
    };
    const parsed = configSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['regions', 0, 'listen']);
    expect(parsed.error?.issues[0]?.message).toMatch(/set "listen"/);
    const fixed = {
      ...bad,
      regions: bad.regions.map((r, i) => (i === 0 ? { ...r, listen: '127.0.0.1:7101' } : r)),
    };
    expect(configSchema.safeParse(fixed).success).toBe(true);
  });

  it('takes settings.trustProxy as a boolean, a hop count or a list of proxies', () => {
    const base = defaultConfig({ edge: 7100, regions: [7101, 7102], witness: 7103 });
    for (const trustProxy of [true, 1, ['127.0.0.1', '10.0.0.0/8']]) {
      expect(configSchema.safeParse({ ...base, settings: { ...base.settings, trustProxy } }).success).toBe(true);
    }
    expect(configSchema.safeParse({ ...base, settings: { ...base.settings, trustProxy: 'yes' } }).success).toBe(false);
  });
});

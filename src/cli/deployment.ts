/**
 * @module The operator's view of a deployment: every region of the configuration,
 * called over HTTP with an operator token minted from the configuration's token key
 * (whoever holds the configuration is its operator).
 */
import { newestRecord, type StateRecord } from '../core/app-state.js';
import type { LoadedConfig, RegionConfig } from '../config/config.js';
import { TokenSigner } from '../auth/tokens.js';
import { PeerClient, describeFetchError } from '../peers/peer-client.js';

export interface RegionAnswer<T> {
  region: RegionConfig;
  ok: boolean;
  /** It answered, even if with an error (a region that is up but has no record, say). */
  reachable: boolean;
  value?: T;
  error?: string;
}

export type RegionState = StateRecord & { region: string };

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const OPERATOR = 'operator';

export class Deployment {
  private token: Promise<string> | undefined;
  readonly peer: PeerClient;

  constructor(readonly config: LoadedConfig) {
    this.peer = new PeerClient(config.secrets.replicationKey, OPERATOR);
  }

  region(name: string): RegionConfig {
    const r = this.config.regions.find((x) => x.name === name);
    if (!r) throw new Error(`no region "${name}"; regions are ${this.config.regions.map((x) => x.name).join(', ')}`);
    return r;
  }

  operatorToken(): Promise<string> {
    this.token ??= new TokenSigner(this.config.secrets.tokenKey, this.config.appId, 3600)
      .issue({ username: OPERATOR, role: 'admin' })
      .then((t) => t.token);
    return this.token;
  }

  /** A JSON API call to one region, as the operator. */
  async api<T>(region: RegionConfig, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.operatorToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, region.url), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ApiError(`${region.name} did not answer (${describeFetchError(err)})`, 0, 'unreachable', {});
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: text };
    }
    if (!res.ok) {
      const err = (parsed.error ?? {}) as { code?: string; message?: string };
      throw new ApiError(`${region.name}: ${err.message ?? `HTTP ${res.status}`}`, res.status, err.code, (parsed.error ?? {}) as Record<string, unknown>);
    }
    return parsed as T;
  }

  /** The same call to every region at once; a region that fails is reported, not thrown. */
  async everyRegion<T>(call: (region: RegionConfig) => Promise<T>): Promise<Array<RegionAnswer<T>>> {
    return Promise.all(
      this.config.regions.map(async (region) => {
        try {
          return { region, ok: true, reachable: true, value: await call(region) };
        } catch (err) {
          const reachable = err instanceof ApiError && err.status > 0;
          return { region, ok: false, reachable, error: (err as Error).message };
        }
      }),
    );
  }

  states(): Promise<Array<RegionAnswer<RegionState>>> {
    return this.everyRegion((r) => this.api<RegionState>(r, 'GET', `/state/${this.config.appId}`, undefined, 3000));
  }

  /** The newest record any region reports (highest epoch wins), or undefined if none answered. */
  async newestState(): Promise<{ newest: RegionState | undefined; answers: Array<RegionAnswer<RegionState>> }> {
    const answers = await this.states();
    const newest = newestRecord(answers.filter((a) => a.ok).map((a) => a.value!));
    return { newest, answers };
  }
}

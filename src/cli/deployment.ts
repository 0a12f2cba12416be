/**
 * @module The operator's view of a deployment: every region of the configuration,
 * called over HTTP with an operator token minted from the configuration's token key
 * (whoever holds the configuration is its operator).
 */

import { TokenSigner } from '../auth/tokens.js';
import type { LoadedConfig, RegionConfig } from '../config/config.js';
import { peerCa } from '../config/serving.js';
import type { StateRecord } from '../core/app-state.js';
import { call } from '../orchestration/plan-call.js';
import { type PlanEnvironment, PlanError } from '../orchestration/plan-types.js';
import { replicationKeys } from '../peers/peer-auth.js';
import { PeerClient, trustPeerCa } from '../peers/peer-client.js';

export interface RegionAnswer<T> {
  region: RegionConfig;
  ok: boolean;
  /** It answered, even if with an error (a region that is up but has no record, say). */
  reachable: boolean;
  value?: T;
  error?: string;
}

export type RegionState = StateRecord & { region: string };

export const OPERATOR = 'operator';

export class Deployment {
  private token: Promise<string> | undefined;
  readonly peer: PeerClient;

  constructor(readonly config: LoadedConfig) {
    trustPeerCa(peerCa(config));
    this.peer = new PeerClient(replicationKeys(config.secrets), OPERATOR);
  }

  region(name: string): RegionConfig {
    const r = this.config.regions.find((x) => x.name === name);
    if (!r) throw new Error(`no region "${name}"; regions are ${this.config.regions.map((x) => x.name).join(', ')}`);
    return r;
  }

  operatorToken(): Promise<string> {
    this.token ??= new TokenSigner(this.config.secrets.tokenKey, this.config.appId, 3600)
      .issue({ username: OPERATOR, role: 'admin', operator: true })
      .then((t) => t.token);
    return this.token;
  }

  /** A JSON API call to one region, as the operator (the same call the operator plans make). */
  async api<T>(region: RegionConfig, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<T> {
    return call<T>(await this.planEnv(), region, method, path, body, timeoutMs);
  }

  /** What the operator plans (src/orchestration/plan.ts) run with. */
  async planEnv(): Promise<PlanEnvironment> {
    return { appId: this.config.appId, regions: this.config.regions, token: await this.operatorToken() };
  }

  /** The same call to every region at once; a region that fails is reported, not thrown. */
  async everyRegion<T>(call: (region: RegionConfig) => Promise<T>): Promise<Array<RegionAnswer<T>>> {
    return Promise.all(
      this.config.regions.map(async (region) => {
        try {
          return { region, ok: true, reachable: true, value: await call(region) };
        } catch (err) {
          const reachable = err instanceof PlanError && err.code !== 'unreachable';
          return { region, ok: false, reachable, error: (err as Error).message };
        }
      }),
    );
  }

  states(): Promise<Array<RegionAnswer<RegionState>>> {
    return this.everyRegion((r) => this.api<RegionState>(r, 'GET', `/state/${this.config.appId}`, undefined, 3000));
  }
}

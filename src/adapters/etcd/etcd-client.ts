/**
 * @module A small client of etcd's v3 API through its JSON gRPC gateway (etcd ≥ 3.4:
 * POST /v3/kv/range, /v3/kv/txn, /v3/lease/grant, /v3/lease/keepalive,
 * /v3/lease/revoke, /v3/lease/timetolive, /v3/maintenance/status; keys and values
 * base64, 64-bit integers as decimal strings), over node:http with keep-alive. No
 * gRPC dependency.
 *
 * Several endpoints (the cluster's members): a call goes to the last member that
 * answered and fails over to the next when one cannot be reached, times out, or
 * answers that it cannot serve (no leader, request timed out: gRPC Unavailable or
 * DeadlineExceeded). When no member answers, the call rejects with
 * EtcdUnavailableError; a definite refusal (a lease that does not exist, a bad
 * request) rejects with EtcdRequestError and is not retried elsewhere.
 *
 * A write that timed out may still have been applied: callers make their writes
 * conditional (a txn comparing revisions) or idempotent, and re-read after an error.
 */
import http from 'node:http';

/** No member of the cluster answered (down, partitioned, or without a quorum). */
export class EtcdUnavailableError extends Error {
  constructor(
    message: string,
    /** Per member tried: what went wrong, and whether it answered at all (it may lack a leader). */
    readonly failures: Array<{ endpoint: string; error: string; answered: boolean }>,
  ) {
    super(message);
    this.name = 'EtcdUnavailableError';
  }
}

/** etcd answered, and refused: `code` is the gRPC status code (5: not found, 3: invalid argument, ...). */
export class EtcdRequestError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly status: number,
  ) {
    super(message);
    this.name = 'EtcdRequestError';
  }
}

/** gRPC codes that mean "this member cannot serve the request now; another may". */
const RETRY_ELSEWHERE = new Set([
  1 /* cancelled */, 4 /* deadline exceeded */, 13 /* internal */, 14 /* unavailable */,
]);
const LEASE_NOT_FOUND = 5;

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is attached to, as a decimal string; '0' when none. */
  lease: string;
}

/** One comparison of a txn (etcdserverpb.Compare), in the gateway's JSON. */
export type Compare = Record<string, unknown>;
/** One operation of a txn (etcdserverpb.RequestOp), in the gateway's JSON. */
export type RequestOp = Record<string, unknown>;

export interface TxnResult {
  succeeded: boolean;
  /** The kvs of each range operation of the branch that ran, in order (puts and deletes give []). */
  ranges: KeyValue[][];
}

export interface MemberStatus {
  version: string;
  /** The member id of the leader this member knows, '0' or absent when it knows none. */
  leader?: string;
  errors?: string[];
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** Compare helpers. A key that does not exist has mod and create revision 0. */
export const cmp = {
  modRevision: (key: string, revision: number): Compare => ({
    key: b64(key),
    target: 'MOD',
    result: 'EQUAL',
    mod_revision: String(revision),
  }),
  absent: (key: string): Compare => ({ key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }),
};

export const op = {
  get: (key: string): RequestOp => ({ request_range: { key: b64(key) } }),
  put: (key: string, value: string, lease?: string): RequestOp => ({
    request_put: { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) },
  }),
  del: (key: string): RequestOp => ({ request_delete_range: { key: b64(key) } }),
};

export interface EtcdClientOptions {
  endpoints: readonly string[];
  /** Timeout of one request to one member. */
  callTimeoutMs: number;
}

type Json = Record<string, unknown>;

export class EtcdClient {
  readonly endpoints: readonly string[];
  private preferred = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private closed = false;

  constructor(private readonly o: EtcdClientOptions) {
    if (o.endpoints.length === 0) throw new Error('etcd needs at least one endpoint');
    this.endpoints = o.endpoints.map((e) => e.replace(/\/+$/, ''));
    for (const e of this.endpoints) {
      if (!/^http:\/\//.test(e)) throw new Error(`etcd endpoint ${e}: only http:// endpoints are supported`);
    }
  }

  /** A linearizable read of one key. */
  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call('/v3/kv/range', { key: b64(key) });
    return kvs(res)[0];
  }

  async txn(compare: Compare[], success: RequestOp[], failure: RequestOp[] = []): Promise<TxnResult> {
    const res = await this.call('/v3/kv/txn', { compare, success, failure });
    const responses = (res.responses as Json[] | undefined) ?? [];
    return {
      succeeded: res.succeeded === true,
      ranges: responses.map((r) => {
        const range = (r.response_range ?? r.responseRange) as Json | undefined;
        return range ? kvs(range) : [];
      }),
    };
  }

  /** Grants a lease; etcd may raise the TTL to its minimum. */
  async grant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const res = await this.call('/v3/lease/grant', { TTL: String(ttlSeconds), ID: '0' });
    if (typeof res.ID !== 'string' || res.ID === '0') throw new Error('etcd granted a lease without an id');
    return { id: res.ID, ttlSeconds: int(res.TTL) };
  }

  /** Renews a lease to its full TTL; resolves to that TTL in seconds, or 0 when the lease no longer exists. */
  async keepAlive(id: string): Promise<number> {
    const res = await this.call('/v3/lease/keepalive', { ID: id });
    const result = (res.result as Json | undefined) ?? res;
    return int(result.TTL);
  }

  /** Revokes a lease (its keys are deleted); a lease that no longer exists is not an error. */
  async revoke(id: string): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: id });
    } catch (err) {
      if (err instanceof EtcdRequestError && err.code === LEASE_NOT_FOUND) return;
      throw err;
    }
  }

  /**
   * What is left of a lease: `ttlSeconds` is whole seconds, truncated (0: less than one
   * second), -1 when the lease no longer exists.
   */
  async timeToLive(id: string): Promise<{ ttlSeconds: number; grantedSeconds: number }> {
    const res = await this.call('/v3/lease/timetolive', { ID: id });
    return { ttlSeconds: int(res.TTL), grantedSeconds: int(res.grantedTTL) };
  }

  /** Asks one member (no fail-over) for its status. */
  async status(endpoint: string): Promise<MemberStatus> {
    const res = await this.request(endpoint, '/v3/maintenance/status', {}, this.o.callTimeoutMs);
    return {
      version: String(res.version ?? ''),
      ...(typeof res.leader === 'string' ? { leader: res.leader } : {}),
      ...(Array.isArray(res.errors) ? { errors: res.errors.map(String) } : {}),
    };
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  /** One request, to the preferred member first, then to each other member once. */
  private async call(path: string, body: Json): Promise<Json> {
    if (this.closed) throw new Error('the etcd client is closed');
    const failures: EtcdUnavailableError['failures'] = [];
    const n = this.endpoints.length;
    const first = this.preferred;
    for (let i = 0; i < n; i++) {
      const index = (first + i) % n;
      const endpoint = this.endpoints[index]!;
      try {
        const res = await this.request(endpoint, path, body, this.o.callTimeoutMs);
        this.preferred = index;
        return res;
      } catch (err) {
        if (err instanceof EtcdRequestError && !RETRY_ELSEWHERE.has(err.code)) throw err;
        failures.push({ endpoint, error: (err as Error).message, answered: err instanceof EtcdRequestError });
      }
    }
    this.preferred = (first + 1) % n;
    throw new EtcdUnavailableError(
      `no etcd member could serve ${path}: ${failures.map((f) => `${f.endpoint}: ${f.error}`).join('; ')}`,
      failures,
    );
  }

  private request(endpoint: string, path: string, body: Json, timeoutMs: number): Promise<Json> {
    const payload = JSON.stringify(body);
    return new Promise<Json>((resolve, reject) => {
      const req = http.request(`${endpoint}${path}`, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          // A streaming call (keepalive) answers newline-delimited objects; the first is ours.
          const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
          let parsed: Json;
          try {
            parsed = JSON.parse(line) as Json;
          } catch {
            reject(new Error(`etcd answered ${res.statusCode} with ${JSON.stringify(text.slice(0, 200))}`));
            return;
          }
          const error = gatewayError(parsed, res.statusCode ?? 0);
          if (error) reject(error);
          else resolve(parsed);
        });
      });
      req.end(payload);
    });
  }
}

/** The gateway's error shapes: `{error, code, message}`, or in a stream `{error: {grpc_code, message}}`. */
function gatewayError(parsed: Json, status: number): EtcdRequestError | undefined {
  const e = parsed.error;
  if (e !== undefined && e !== null) {
    if (typeof e === 'object') {
      const inner = e as Json;
      return new EtcdRequestError(String(inner.message ?? 'etcd error'), int(inner.grpc_code ?? inner.code), status);
    }
    return new EtcdRequestError(String(parsed.message ?? e), int(parsed.code), status);
  }
  if (status >= 400) return new EtcdRequestError(`etcd answered HTTP ${status}`, status >= 500 ? 14 : 2, status);
  return undefined;
}

function kvs(range: Json): KeyValue[] {
  const list = (range.kvs as Json[] | undefined) ?? [];
  return list.map((kv) => ({
    key: unb64(kv.key as string | undefined),
    value: unb64(kv.value as string | undefined),
    createRevision: int(kv.create_revision ?? kv.createRevision),
    modRevision: int(kv.mod_revision ?? kv.modRevision),
    version: int(kv.version),
    lease: typeof kv.lease === 'string' ? kv.lease : '0',
  }));
}

/** The gateway writes int64 as strings and leaves zero values out. */
function int(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

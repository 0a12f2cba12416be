/**
 * @module Controls of a local deployment, served by the edge of `mraa up` only (and
 * only on loopback): stop and start a region's process to simulate an outage, and
 * the drill reports written in the data directory. Every call needs an admin token.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TokenSigner } from '../auth/tokens.js';
import { DomainError } from '../core/errors.js';
import { bearerToken, isLoopback } from '../http/auth-guards.js';
import { installErrorHandler } from '../http/error-handler.js';
import { parseWith } from '../http/validation.js';
import type { Supervisor } from '../local/supervisor.js';

export const DRILLS_DIR = 'drills';

const regionParams = z.object({ name: z.string().regex(/^[a-z0-9-]{1,63}$/) });
const drillParams = z.object({ id: z.string().regex(/^[0-9A-Za-z-]{1,80}$/) });

export interface DrillSummary {
  id: string;
  startedAt: string;
  kind: 'graceful' | 'ungraceful';
  ok: boolean;
  rpo: number;
  rtoMs: number;
}

export function localControls(
  app: FastifyInstance,
  deps: {
    supervisor: Supervisor;
    tokens: TokenSigner;
    dataRoot: string;
    regions: string[];
    log: (line: string) => void;
  },
): void {
  installErrorHandler(app);
  const admin = async (request: FastifyRequest) => {
    if (!isLoopback(request.socket.remoteAddress))
      throw new DomainError('forbidden', 'local controls answer on loopback only');
    const token = bearerToken(request);
    if (!token) throw new DomainError('unauthenticated', 'sign in as an administrator first');
    const claims = await deps.tokens.verify(token);
    if (claims.role !== 'admin') throw new DomainError('forbidden', 'local controls are for administrators');
    return claims;
  };
  const region = (request: FastifyRequest) => {
    const { name } = parseWith(regionParams, request.params, 'path');
    if (!deps.regions.includes(name)) throw new DomainError('not_found', `no region "${name}"`);
    return name;
  };
  const view = () => ({
    regions: deps.supervisor.list().map((p) => ({
      name: p.name,
      pid: p.running ? (p.pid ?? null) : null,
      running: p.running,
      ...(p.exit ? { exit: p.exit } : {}),
    })),
  });

  app.get('/local/regions', async (request) => {
    await admin(request);
    return view();
  });

  app.post('/local/regions/:name/stop', async (request) => {
    const claims = await admin(request);
    const name = region(request);
    deps.log(`Region ${name} stopped from the operations console by ${claims.username} (SIGKILL, as an outage).`);
    deps.supervisor.kill(name, true);
    await deps.supervisor.whenStopped(name);
    return view();
  });

  app.post('/local/regions/:name/start', async (request) => {
    const claims = await admin(request);
    const name = region(request);
    deps.log(`Region ${name} started from the operations console by ${claims.username}.`);
    deps.supervisor.start(name);
    return view();
  });

  app.get('/local/drills', async (request) => {
    await admin(request);
    return { reports: await listDrills(join(deps.dataRoot, DRILLS_DIR)) };
  });

  app.get('/local/drills/:id', async (request) => {
    await admin(request);
    const { id } = parseWith(drillParams, request.params, 'path');
    try {
      return JSON.parse(await readFile(join(deps.dataRoot, DRILLS_DIR, `${id}.json`), 'utf8'));
    } catch {
      throw new DomainError('not_found', `no drill report ${id}`);
    }
  });
}

export async function listDrills(dir: string): Promise<DrillSummary[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: DrillSummary[] = [];
  for (const f of files) {
    try {
      const r = JSON.parse(await readFile(join(dir, f), 'utf8')) as DrillSummary;
      out.push({ id: r.id, startedAt: r.startedAt, kind: r.kind, ok: r.ok, rpo: r.rpo, rtoMs: r.rtoMs });
    } catch {
      /* a report being written, or not one of ours */
    }
  }
  return out.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
}

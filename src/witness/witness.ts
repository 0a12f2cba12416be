/**
 * @module The witness (DESIGN §3a): a voter of the control plane with no application
 * data, meant for a third site, so that with two regions any one site can be lost.
 * It serves only the voter endpoint (signed with the replication key), liveness and
 * readiness; its promises and accepted values live under `<dataDir>/<name>/voter`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Voter } from '../adapters/voters/voter.js';
import { VoterFiles } from '../adapters/voters/voter-files.js';
import type { LoadedConfig } from '../config/config.js';
import { servingOf } from '../config/serving.js';
import { buildHttpApp } from '../http/app.js';
import { LOG_REDACT } from '../http/log-redact.js';
import { Metrics } from '../http/metrics.js';
import { PeerVerifier, replicationKeys } from '../peers/peer-auth.js';
import { voterRoutes } from '../peers/voter.routes.js';
import { monotonicNow } from '../util/clock.js';

export interface RunningWitness {
  name: string;
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startWitness(opts: {
  config: LoadedConfig;
  name: string;
  logger?: Logger;
}): Promise<RunningWitness> {
  const { config, name } = opts;
  const cp = config.controlPlane;
  const self = cp.witnesses.find((w) => w.name === name);
  if (!self) {
    const known = cp.witnesses.map((w) => w.name).join(', ') || 'none';
    throw new Error(`no witness "${name}" in the configuration (controlPlane.witnesses: ${known})`);
  }
  const logger = opts.logger ?? pino({ base: { witness: name }, redact: LOG_REDACT });
  const dir = join(config.dataRoot, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = new VoterFiles(join(dir, 'voter'));
  const voter = new Voter({ storage: files, now: monotonicNow, leaseMs: cp.leaseMs });
  const verifier = new PeerVerifier(
    replicationKeys(config.secrets),
    new Set([...config.regions.map((r) => r.name), ...cp.witnesses.map((w) => w.name), 'operator']),
  );
  const serving = servingOf(config, { witness: name });
  const app = await buildHttpApp({
    logger,
    corsOrigins: [],
    metrics: new Metrics(name),
    limits: config.settings.limits,
    ...(serving.https ? { https: serving.https } : {}),
  });
  app.get('/healthz', async () => ({ status: 'ok', witness: name }));
  app.get('/readyz', async () => ({ status: 'ready', witness: name }));
  voterRoutes(app, { voter, verifier });
  await app.listen(serving.listen);
  logger.info({ url: self.url, listen: serving.listen, https: !!serving.https, dataDir: dir }, 'witness listening');
  return {
    name,
    url: self.url,
    app,
    close: async () => {
      await app.close();
      await files.close();
    },
  };
}

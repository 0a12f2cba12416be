/**
 * Runs the control-plane conformance suite against both adapters: the embedded voters
 * (three CASPaxos voters with files on disk, linked in process) and etcd (three members
 * started here on loopback; CI installs Debian's etcd-server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { EtcdControlPlane } from '../../src/adapters/etcd/etcd-control-plane.js';
import { Voter } from '../../src/adapters/voters/voter.js';
import { VoterFiles } from '../../src/adapters/voters/voter-files.js';
import { VotersControlPlane } from '../../src/adapters/voters/voters-control-plane.js';
import type { ControlPlane } from '../../src/ports/control-plane.js';
import type { VoterLink } from '../../src/ports/voter-protocol.js';
import { etcdAvailable, startEtcdCluster } from '../helpers/etcd-cluster.js';
import { type ControlPlaneHandle, controlPlaneConformance } from './control-plane.case.js';

const LEASE_MS = 1000;
const MAX_CLOCK_DRIFT = 0.01;
const now = () => performance.now();

controlPlaneConformance('embedded voters', async (): Promise<ControlPlaneHandle> => {
  const root = await mkdtemp(join(tmpdir(), 'mraa-voters-'));
  const dirs = [0, 1, 2].map((i) => join(root, `v${i}`));
  // Every voter's files, closed when the suite ends (a killed voter's included).
  const files: VoterFiles[] = [];
  const start = (i: number) => {
    const storage = new VoterFiles(dirs[i]!);
    files.push(storage);
    return new Voter({ storage, now, leaseMs: LEASE_MS });
  };
  const voters: Array<Voter | undefined> = dirs.map((_, i) => start(i));
  const clients: ControlPlane[] = [];
  return {
    client(name) {
      // In process, but through structured clones, as over the wire; `name` is the authenticated sender.
      const links: VoterLink[] = voters.map((_, i) => ({
        name: `v${i}`,
        send: async (request) => {
          const voter = voters[i];
          if (!voter) throw new Error(`voter v${i} is down`);
          return structuredClone(await voter.handle(structuredClone(request), name));
        },
      }));
      const plane = new VotersControlPlane({
        self: name,
        voters: links,
        leaseMs: LEASE_MS,
        maxClockDrift: MAX_CLOCK_DRIFT,
        now,
        sleep: (ms) => sleep(ms),
        random: Math.random,
      });
      clients.push(plane);
      return plane;
    },
    leaseMs: LEASE_MS,
    maxWaitMs: LEASE_MS + 250,
    now,
    kill: async (i) => {
      voters[i] = undefined;
    },
    restart: async (i) => {
      voters[i] = start(i);
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(files.map((f) => f.close()));
      await rm(root, { recursive: true, force: true });
    },
  };
});

if (etcdAvailable()) {
  controlPlaneConformance('etcd', async (): Promise<ControlPlaneHandle> => {
    // Heartbeat 50 ms, election 500 ms: etcd's minimum lease TTL is then 1 s (ceil(1.5 × 500 ms)).
    const cluster = await startEtcdCluster({ members: 3, heartbeatMs: 50, electionMs: 500 });
    const clients: ControlPlane[] = [];
    return {
      client() {
        const plane = new EtcdControlPlane({
          endpoints: cluster.endpoints,
          prefix: '/mraa-test',
          leaseMs: LEASE_MS,
          maxClockDrift: MAX_CLOCK_DRIFT,
          now,
          callTimeoutMs: 1000,
        });
        clients.push(plane);
        return plane;
      },
      leaseMs: LEASE_MS,
      // etcd's leader sweeps expired leases every 500 ms; the waiting change polls every 100 ms.
      maxWaitMs: LEASE_MS + 1000,
      now,
      kill: (i) => cluster.kill(i),
      restart: (i) => cluster.restart(i),
      close: async () => {
        await Promise.all(clients.map((c) => c.close()));
        await cluster.close();
      },
    };
  });
} else {
  describe('control plane conformance: etcd', () => {
    it.skip('needs the etcd binary: apt-get install etcd-server (CI installs it in .ci/run)', () => {});
  });
}

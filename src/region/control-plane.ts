/**
 * @module Builds the control plane a region (or the CLI) talks to, from the
 * configuration: the embedded voters (every voting region and the witnesses, reached
 * over signed HTTP; this region's own voter in process) or etcd (DESIGN §3a).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdControlPlane } from '../adapters/etcd/etcd-control-plane.js';
import type { Voter } from '../adapters/voters/voter.js';
import { VotersControlPlane } from '../adapters/voters/voters-control-plane.js';
import { type Config, voterAddresses } from '../config/config.js';
import type { PeerClient } from '../peers/peer-client.js';
import { HttpVoterLink } from '../peers/voter-link.js';
import type { ControlPlane } from '../ports/control-plane.js';
import type { VoterLink } from '../ports/voter-protocol.js';
import { monotonicNow } from '../util/clock.js';

export function buildControlPlane(opts: {
  config: Config;
  /** Who proposes: a region's name, or "operator" for the CLI. */
  self: string;
  client: PeerClient;
  /** This process's own voter, reached without the network. */
  localVoter?: Voter;
}): ControlPlane {
  const cp = opts.config.controlPlane;
  if (cp.kind === 'etcd') {
    return new EtcdControlPlane({
      endpoints: cp.etcd!.endpoints,
      prefix: cp.etcd!.prefix,
      leaseMs: cp.leaseMs,
      maxClockDrift: cp.maxClockDrift,
      now: monotonicNow,
    });
  }
  const links: VoterLink[] = voterAddresses(opts.config).map((v) =>
    v.name === opts.self && opts.localVoter
      ? { name: v.name, send: (request) => opts.localVoter!.handle(request, opts.self) }
      : new HttpVoterLink(v.name, v.url, opts.client),
  );
  return new VotersControlPlane({
    self: opts.self,
    voters: links,
    leaseMs: cp.leaseMs,
    maxClockDrift: cp.maxClockDrift,
    now: monotonicNow,
    sleep: (ms) => sleep(ms),
    random: Math.random,
  });
}

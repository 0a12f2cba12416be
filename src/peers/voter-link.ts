/**
 * @module A voter reached over HTTP: each control-plane message is one signed POST to
 * the voter's `/internal/voter` (src/peers/voter.routes.ts), authenticated with the
 * replication key like every inter-region call.
 */
import type { VoterLink, VoterReply, VoterRequest } from '../ports/voter-protocol.js';
import type { PeerClient } from './peer-client.js';

export const VOTER_PATH = '/internal/voter';

export class HttpVoterLink implements VoterLink {
  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly client: PeerClient,
  ) {}

  send(request: VoterRequest, timeoutMs: number): Promise<VoterReply> {
    return this.client.call<VoterReply>(this.url, 'POST', VOTER_PATH, request, { timeoutMs });
  }
}

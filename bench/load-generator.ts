/**
 * @module The load generator: the client side of every measurement, in a process of
 * its own (forked by bench/main.ts), so clients never share a process with the
 * deployment's regions or with the orchestrator.
 */
import { closedLoop, openLoop } from './comment-load.js';
import { failoverTrials } from './failover.js';
import { forcedProbeFinish, forcedProbeStart } from './forced-failover.js';
import { bigUpload, diskCopy, uploadPhotos } from './object-transfer.js';
import { makePhotos } from './photo-files.js';
import { serve } from './rpc.js';
import { stateEventDelivery } from './state-events.js';

serve({
  openLoop: (a) => openLoop(a.target, a.options),
  closedLoop: (a) => closedLoop(a.target, a.options),
  stateEvents: stateEventDelivery,
  failoverTrials,
  forcedProbeStart,
  forcedProbeFinish,
  makePhotos,
  uploadPhotos,
  diskCopy,
  bigUpload,
});

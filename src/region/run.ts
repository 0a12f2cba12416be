/**
 * @module Runs a region server the way `mraa region` does: first the rebuild checks
 * (DESIGN §5), then the server.
 *
 * Before serving, a region is rebuilt from a peer's snapshot (src/region/rebuild.ts):
 * - when started with `--rebuild`;
 * - when a rebuild was started and not finished (it resumes);
 * - when its data directory holds no database and a peer that answers holds data. A
 *   brand-new deployment, where no peer answers or every peer is empty, starts empty.
 *
 * While serving, a region a peer says must be rebuilt (its origin link `needs-rebuild`)
 * says so in its log and `/status`, and waits for `mraa region --rebuild`; with
 * `settings.autoRebuild` it closes, rebuilds and starts again by itself, unless it is
 * the writer (never rebuilt from a passive copy behind its back).
 */
import pino from 'pino';
import { findRegion } from '../config/config.js';
import { createFilesPrivately, requirePrivateDataDir } from '../config/file-modes.js';
import { isWriter } from '../core/app-state.js';
import { LOG_REDACT } from '../http/log-redact.js';
import { rebuildInstruction } from '../replication/link-state.js';
import type { RebuildNeeded } from '../replication/replicator.js';
import {
  askSources,
  chooseSource,
  isEmptyDataDir,
  rebuildInProgress,
  rebuildPaths,
  rebuildRegion,
  removeLeftoverState,
} from './rebuild.js';
import { type RegionOptions, type RunningRegion, startRegion } from './region.js';

/** How long a region with an empty data directory waits for its peers' answer before it starts empty. */
export const EMPTY_DIR_PROBE_MS = 2000;

export interface RunOptions extends RegionOptions {
  /** `mraa region --rebuild`: rebuild from a peer's snapshot before serving. */
  rebuild?: boolean;
  /** `--rebuild-from NAME`: the peer to take the snapshot from. */
  rebuildFrom?: string;
}

export interface RegionRunner {
  /** The server running now (undefined while it rebuilds). */
  current(): RunningRegion | undefined;
  close(): Promise<void>;
}

export async function runRegion(options: RunOptions): Promise<RegionRunner> {
  const { config, region } = options;
  const logger = options.logger ?? pino({ base: { region }, redact: LOG_REDACT });
  createFilesPrivately();
  requirePrivateDataDir(config.dataRoot);
  const paths = rebuildPaths(config, region);
  await removeLeftoverState(paths);
  const deps = { config, region, logger };
  const from = options.rebuildFrom ? { from: options.rebuildFrom } : {};

  const inProgress = await rebuildInProgress(paths);
  if (options.rebuild || inProgress) {
    await refuseIfRunning(options);
    await rebuildRegion({ ...deps, ...from, reason: options.rebuild ? 'mraa region --rebuild' : inProgress!.reason });
  } else if (isEmptyDataDir(paths)) {
    const source = chooseSource(await askSources(deps, EMPTY_DIR_PROBE_MS), options.rebuildFrom);
    if (source) {
      await rebuildRegion({
        ...deps,
        from: source.region,
        reason: `its data directory is empty and ${source.region} holds data`,
      });
    } else {
      logger.info('empty data directory, and no peer that answers holds data: starting empty (a new deployment)');
    }
  }

  let running: RunningRegion | undefined;
  let closed = false;
  let rebuilding: Promise<void> | undefined;
  const abort = new AbortController();

  const start = async () => {
    running = await startRegion({ ...options, logger });
    const self = running;
    const onNeeded = (event: RebuildNeeded) => {
      if (event.side !== 'origin' || closed || rebuilding || running !== self) return;
      if (!config.settings.autoRebuild) {
        logger.error(
          { origin: event.origin },
          `rebuild: ${event.origin} says this region must be rebuilt: ${rebuildInstruction(region)} (or set settings.autoRebuild)`,
        );
        return;
      }
      if (isWriter(self.state.get(config.appId), region)) {
        logger.error(
          { origin: event.origin },
          `rebuild: ${event.origin} says this region must be rebuilt, but it is the writer: not rebuilt automatically; ${rebuildInstruction(region)} once another region is the writer`,
        );
        return;
      }
      rebuilding = (async () => {
        logger.warn({ origin: event.origin }, 'rebuild: closing this region to rebuild it (settings.autoRebuild)');
        running = undefined;
        await self.close();
        await rebuildRegion({
          ...deps,
          ...from,
          reason: `${event.origin} said: ${event.state.message}`,
          signal: abort.signal,
        });
        if (!closed) await start();
      })()
        .catch((err: Error) => {
          if (!closed) logger.error({ err: err.message }, 'rebuild: failed; the region stays down');
        })
        .finally(() => {
          rebuilding = undefined;
        });
    };
    self.replicator.onRebuildNeeded(onNeeded);
    // An origin may have said so while the server was starting, before anyone listened.
    for (const event of self.replicator.rebuildsNeeded()) onNeeded(event);
  };
  await start();

  return {
    current: () => running,
    close: async () => {
      closed = true;
      abort.abort(new Error('the region is stopping'));
      await rebuilding?.catch(() => undefined);
      await running?.close();
      running = undefined;
    },
  };
}

/** A rebuild swaps the data directory: never under a server of the same region still running. */
async function refuseIfRunning(options: RunOptions): Promise<void> {
  const url = findRegion(options.config, options.region).url;
  const answer = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(1500) }).catch(() => undefined);
  if (answer)
    throw new Error(
      `something answers at ${url}, where ${options.region} listens: stop the region before rebuilding it (nothing was changed)`,
    );
}

/**
 * @module The PostgreSQL visibility observer, a helper process of its own (forked by
 * the orchestrator, like bench/visibility-observer.ts): it watches the standby
 * (standby-watch.ts) and records when each probe row became visible there.
 */
import { sleep } from '../clock.js';
import { serve } from '../rpc.js';
import { StandbyWatch } from './standby-watch.js';

let watch: StandbyWatch | undefined;

serve({
  async watch(args: { host: string; port: number; walDir: string; firstId: number }) {
    watch = await StandbyWatch.open(
      { host: args.host, port: args.port, user: 'postgres', database: 'postgres' },
      args.walDir,
      args.firstId,
    );
    return true;
  },
  /** Waits until every id of `ids` is visible (or the timeout); returns how many are. */
  async awaitIds(args: { ids: number[]; timeoutMs: number }) {
    const deadline = Date.now() + args.timeoutMs;
    let missing = args.ids.filter((id) => !watch!.visible.has(id));
    while (missing.length > 0 && Date.now() < deadline) {
      await sleep(10);
      missing = missing.filter((id) => !watch!.visible.has(id));
    }
    return args.ids.length - missing.length;
  },
  async stop() {
    const result = await watch!.stop();
    watch = undefined;
    return result;
  },
});

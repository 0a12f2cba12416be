/**
 * @module The visibility observer, a helper process of its own (forked by
 * bench/main.ts): it watches a region's database and files from outside the region's
 * process, read-only, and records when comments became visible there
 * (comment-visibility.ts) and when replicated objects arrived (object-arrival.ts).
 */
import { sleep } from './clock.js';
import { CommentWatch } from './comment-visibility.js';
import { ObjectWatch } from './object-arrival.js';
import { serve } from './rpc.js';

let comments: CommentWatch | undefined;
let objects: ObjectWatch | undefined;

serve({
  watchComments(args: { dbPath: string; origin: string | null; intervalUs: number }) {
    comments = new CommentWatch(args.dbPath, args.origin, args.intervalUs);
    return { alreadyPresent: comments.visible.size };
  },
  /** Waits until every comment of `ids` is visible (or the timeout); returns how many are. */
  async awaitComments(args: { ids: string[]; timeoutMs: number }) {
    const deadline = Date.now() + args.timeoutMs;
    let missing = args.ids.filter((id) => !comments!.visible.has(id));
    while (missing.length > 0 && Date.now() < deadline) {
      await sleep(10);
      missing = missing.filter((id) => !comments!.visible.has(id));
    }
    return args.ids.length - missing.length;
  },
  async stopComments() {
    const result = await comments!.stop();
    comments = undefined;
    return result;
  },
  watchObjects(args: { dataDir: string; origin: string; targetSeq: number; timeoutMs: number }) {
    objects = new ObjectWatch(args.dataDir, args.origin, args.targetSeq, args.timeoutMs);
    return true;
  },
  async objectsResult() {
    await objects!.done;
    return { firstBodyNs: objects!.firstBodyNs, appliedNs: objects!.appliedNs };
  },
});

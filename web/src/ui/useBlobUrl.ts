/**
 * @module Bytes fetched with the bearer header, shown through an object URL: created
 * when the blob arrives, revoked when the component unmounts or the source changes. A
 * 404 is asked again for a while (src/ui/arrival-retry.ts): on a passive region a
 * photo's bytes may still be on their way from the writer; `arriving` says so meanwhile.
 */
import { useEffect, useState } from 'react';
import { describeError, isAbort } from '../api';
import { arrivalRetryDelay, mayStillArrive } from './arrival-retry';

export interface BlobUrl {
  url: string | undefined;
  error: string | undefined;
  /** The bytes were not here yet: asked again shortly. */
  arriving?: boolean;
}

/**
 * `load` is called when `key` is set (and again when it changes); pass undefined to
 * wait (e.g. until the element is visible).
 */
export function useBlobUrl(key: string | undefined, load: (signal: AbortSignal) => Promise<Blob>): BlobUrl {
  const [state, setState] = useState<BlobUrl & { key?: string }>({ url: undefined, error: undefined });
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key names what load fetches; a new closure per render must not reload
  useEffect(() => {
    if (key === undefined) return;
    const ac = new AbortController();
    let url: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let waited = 0;
    const attemptLoad = () =>
      load(ac.signal).then(
        (blob) => {
          if (ac.signal.aborted) return;
          url = URL.createObjectURL(blob);
          setState({ key, url, error: undefined });
        },
        (err: unknown) => {
          if (ac.signal.aborted || isAbort(err)) return;
          const delay = mayStillArrive(err) ? arrivalRetryDelay(++attempt, waited) : null;
          if (delay === null) {
            setState({ key, url: undefined, error: describeError(err, 'load') });
            return;
          }
          waited += delay;
          setState({ key, url: undefined, error: undefined, arriving: true });
          timer = setTimeout(attemptLoad, delay);
        },
      );
    attemptLoad();
    return () => {
      ac.abort();
      clearTimeout(timer);
      if (url) URL.revokeObjectURL(url);
    };
    // `load` is a fresh closure on every render: `key` says when to load again.
  }, [key]);
  return state.key === key
    ? { url: state.url, error: state.error, arriving: state.arriving === true }
    : { url: undefined, error: undefined };
}

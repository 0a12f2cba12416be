/**
 * @module Bytes fetched with the bearer header, shown through an object URL: created
 * when the blob arrives, revoked when the component unmounts or the source changes.
 */
import { useEffect, useState } from 'react';
import { describeError, isAbort } from '../api';

export interface BlobUrl {
  url: string | undefined;
  error: string | undefined;
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
    load(ac.signal).then(
      (blob) => {
        if (ac.signal.aborted) return;
        url = URL.createObjectURL(blob);
        setState({ key, url, error: undefined });
      },
      (err: unknown) => {
        if (!ac.signal.aborted && !isAbort(err)) setState({ key, url: undefined, error: describeError(err, 'load') });
      },
    );
    return () => {
      ac.abort();
      if (url) URL.revokeObjectURL(url);
    };
    // `load` is a fresh closure on every render: `key` says when to load again.
  }, [key]);
  return state.key === key ? { url: state.url, error: state.error } : { url: undefined, error: undefined };
}

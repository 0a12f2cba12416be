/**
 * @module The gallery's photos, newest first, loaded a page at a time ("Load more");
 * uploads are added at the top and deletions removed without a reload.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError, isAbort, type Photo } from '../api';
import { useServices } from '../app/services';

export interface PhotoPages {
  photos: Photo[];
  loading: boolean;
  error: string | undefined;
  /** False once the last page is loaded. */
  hasMore: boolean;
  replicaLagMs: number | null;
  loadMore(): void;
  reload(): void;
  added(photo: Photo): void;
  removed(photoId: string): void;
}

export function usePhotoPages(): PhotoPages {
  const { api } = useServices();
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [replicaLagMs, setLag] = useState<number | null>(null);
  const inflight = useRef<AbortController | undefined>(undefined);

  const load = useCallback(
    async (from: string | null) => {
      inflight.current?.abort();
      const ac = new AbortController();
      inflight.current = ac;
      setLoading(true);
      setError(undefined);
      try {
        const page = await api.photos.list(from, undefined, ac.signal);
        setPhotos((old) => {
          const base = from ? old : [];
          const seen = new Set(base.map((p) => p.photoId));
          return [...base, ...page.photos.filter((p) => !seen.has(p.photoId))];
        });
        setCursor(page.nextCursor);
        setHasMore(page.nextCursor !== null);
        setLag(page.replicaLagMs);
      } catch (err) {
        if (!isAbort(err)) setError(describeError(err, 'load'));
      } finally {
        if (inflight.current === ac) {
          inflight.current = undefined;
          setLoading(false);
        }
      }
    },
    [api],
  );

  useEffect(() => {
    void load(null);
    return () => inflight.current?.abort();
  }, [load]);

  return {
    photos,
    loading,
    error,
    hasMore,
    replicaLagMs,
    loadMore: () => {
      if (cursor && !loading) void load(cursor);
    },
    reload: () => void load(null),
    added: (photo) => setPhotos((old) => [photo, ...old.filter((p) => p.photoId !== photo.photoId)]),
    removed: (photoId) => setPhotos((old) => old.filter((p) => p.photoId !== photoId)),
  };
}

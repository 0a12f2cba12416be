/**
 * @module The gallery: upload at the top, then the photos newest first, a page at a
 * time.
 */
import type { User } from '../api';
import { ErrorNote } from '../ui/ErrorNote';
import { formatMs } from '../ui/format';
import { Thumbnail } from './Thumbnail';
import { UploadPanel } from './UploadPanel';
import type { PhotoPages } from './usePhotoPages';

export function GalleryPage({ gallery }: { user: User; gallery: PhotoPages }) {
  const { photos, loading, error, hasMore } = gallery;
  return (
    <div className="stack">
      <div className="section-head">
        <h1>Photos</h1>
        {gallery.replicaLagMs !== null && (
          <span className="muted small">Served by a replica, {formatMs(gallery.replicaLagMs)} behind</span>
        )}
        <button type="button" className="secondary" onClick={gallery.reload} disabled={loading}>
          Refresh
        </button>
      </div>
      <UploadPanel onUploaded={gallery.added} />
      <ErrorNote message={error} />
      {photos.length > 0 ? (
        <ul className="grid" aria-label="Photos, newest first">
          {photos.map((p) => (
            <Thumbnail key={p.photoId} photo={p} />
          ))}
        </ul>
      ) : (
        !loading && !error && <p className="muted">No photos yet. Upload the first one.</p>
      )}
      <div className="center" aria-live="polite">
        {loading && <span className="muted">Loading photos…</span>}
        {!loading && hasMore && photos.length > 0 && (
          <button type="button" onClick={gallery.loadMore}>
            Load more
          </button>
        )}
      </div>
    </div>
  );
}

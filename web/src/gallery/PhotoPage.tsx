/**
 * @module One photo: the image, its details, its comments, and delete for its owner
 * or an admin.
 */
import { useEffect, useState } from 'react';
import { describeError, isAbort, type Photo, type User } from '../api';
import { useServices } from '../app/services';
import { hrefFor, navigate } from '../app/useHashRoute';
import { useWritesPaused } from '../app/useWritesPaused';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorNote } from '../ui/ErrorNote';
import { formatBytes, formatDateTime } from '../ui/format';
import { useBlobUrl } from '../ui/useBlobUrl';
import { CommentsSection } from './CommentsSection';
import type { PhotoPages } from './usePhotoPages';

export function PhotoPage({ photoId, user, gallery }: { photoId: string; user: User; gallery: PhotoPages }) {
  const { api } = useServices();
  const paused = useWritesPaused();
  const known = gallery.photos.find((p) => p.photoId === photoId);
  const [photo, setPhoto] = useState<Photo | undefined>(known);
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<string>();
  const image = useBlobUrl(photoId, (signal) => api.photos.bytes(photoId, 'image', signal));

  useEffect(() => {
    if (known) return;
    const ac = new AbortController();
    api.photos.get(photoId, ac.signal).then(setPhoto, (err: unknown) => {
      if (!isAbort(err)) setError(describeError(err, 'load'));
    });
    return () => ac.abort();
  }, [api, photoId, known]);

  async function remove() {
    setConfirming(false);
    setDeleteError(undefined);
    try {
      await api.photos.remove(photoId);
      gallery.removed(photoId);
      navigate({ page: 'gallery' });
    } catch (err) {
      setDeleteError(describeError(err, 'delete'));
    }
  }

  const canDelete = photo && (photo.owner === user.username || user.role === 'admin');
  return (
    <article className="photo-page stack" aria-labelledby="photo-title">
      <a href={hrefFor({ page: 'gallery' })} className="back">
        ← All photos
      </a>
      <h1 id="photo-title">{photo ? `Photo by ${photo.owner}` : 'Photo'}</h1>
      <ErrorNote message={error} />
      <div className="photo-frame">
        {image.url ? (
          <img
            src={image.url}
            alt={photo ? `Photo by ${photo.owner}, ${photo.width} × ${photo.height}` : 'The photo'}
            width={photo?.width}
            height={photo?.height}
          />
        ) : (
          <p className="muted">
            {image.error ?? (image.arriving ? 'The image is still on its way to this region…' : 'Loading the image…')}
          </p>
        )}
      </div>
      {photo && (
        <dl className="facts">
          <dt>Uploaded</dt>
          <dd>{formatDateTime(photo.createdAt)}</dd>
          <dt>Size</dt>
          <dd>
            {photo.width} × {photo.height}, {formatBytes(photo.size)}
          </dd>
          <dt>Type</dt>
          <dd>{photo.contentType}</dd>
        </dl>
      )}
      {canDelete && (
        <div className="stack">
          <div>
            <button
              type="button"
              className="danger"
              disabled={!!paused}
              onClick={() => setConfirming(true)}
              aria-describedby={paused ? 'delete-paused' : undefined}
            >
              Delete photo
            </button>
          </div>
          {paused && (
            <p id="delete-paused" className="paused-reason">
              {paused.reason}
            </p>
          )}
          <ErrorNote message={deleteError} />
        </div>
      )}
      {confirming && (
        <ConfirmDialog
          title="Delete this photo?"
          confirmLabel="Delete"
          danger
          onConfirm={remove}
          onCancel={() => setConfirming(false)}
        >
          <p>The photo and its place in the gallery are removed in every region. This cannot be undone.</p>
        </ConfirmDialog>
      )}
      <CommentsSection photoId={photoId} />
    </article>
  );
}

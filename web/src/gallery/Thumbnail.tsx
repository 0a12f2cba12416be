/**
 * @module One photo in the grid: a link to its page, the thumbnail fetched only once
 * the tile nears the viewport.
 */
import { useRef } from 'react';
import type { Photo } from '../api';
import { useServices } from '../app/services';
import { hrefFor } from '../app/useHashRoute';
import { formatDateTime } from '../ui/format';
import { useBlobUrl } from '../ui/useBlobUrl';
import { useVisible } from '../ui/useVisible';

export function Thumbnail({ photo }: { photo: Photo }) {
  const { api } = useServices();
  const ref = useRef<HTMLAnchorElement>(null);
  const visible = useVisible(ref);
  const { url, error, arriving } = useBlobUrl(visible ? photo.photoId : undefined, (signal) =>
    api.photos.bytes(photo.photoId, 'thumbnail', signal),
  );
  const label = `Photo by ${photo.owner}, ${formatDateTime(photo.createdAt)}`;
  return (
    <li className="tile">
      <a ref={ref} href={hrefFor({ page: 'photo', photoId: photo.photoId })} aria-label={label}>
        {url ? (
          <img src={url} alt="" />
        ) : (
          <span className="tile-placeholder" title={error ?? (arriving ? 'On its way to this region' : undefined)}>
            {error ? 'Thumbnail unavailable' : arriving ? 'Arriving…' : ''}
          </span>
        )}
      </a>
    </li>
  );
}

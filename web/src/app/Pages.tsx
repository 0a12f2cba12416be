/**
 * @module The signed-in pages. The gallery's loaded pages live here, so opening a
 * photo and coming back keeps them; the operations console (and its charts) is
 * loaded only when an admin opens it.
 */
import { lazy, Suspense } from 'react';
import type { User } from '../api';
import { GalleryPage } from '../gallery/GalleryPage';
import { PhotoPage } from '../gallery/PhotoPage';
import { usePhotoPages } from '../gallery/usePhotoPages';
import type { Route } from './useHashRoute';

const OperationsPage = lazy(() => import('../operations/OperationsPage'));

export function Pages({ user, route }: { user: User; route: Route }) {
  const gallery = usePhotoPages();
  if (route.page === 'photo')
    return <PhotoPage key={route.photoId} photoId={route.photoId} user={user} gallery={gallery} />;
  if (route.page === 'operations') {
    if (user.role !== 'admin') return <p className="card">The operations console is for admins.</p>;
    return (
      <Suspense fallback={<p className="splash">Loading the operations console…</p>}>
        <OperationsPage />
      </Suspense>
    );
  }
  return <GalleryPage user={user} gallery={gallery} />;
}

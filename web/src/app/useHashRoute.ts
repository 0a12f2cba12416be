/**
 * @module Client-side pages in the URL's hash (`#/`, `#/photos/ID`, `#/operations`),
 * so the back button and links work without server routes.
 */
import { useEffect, useState } from 'react';

export type Route = { page: 'gallery' } | { page: 'photo'; photoId: string } | { page: 'operations' };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const photo = /^\/photos\/([^/]+)$/.exec(path);
  if (photo) return { page: 'photo', photoId: decodeURIComponent(photo[1]!) };
  if (path === '/operations') return { page: 'operations' };
  return { page: 'gallery' };
}

export function hrefFor(route: Route): string {
  if (route.page === 'photo') return `#/photos/${encodeURIComponent(route.photoId)}`;
  if (route.page === 'operations') return '#/operations';
  return '#/';
}

export function navigate(route: Route): void {
  window.location.hash = hrefFor(route);
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

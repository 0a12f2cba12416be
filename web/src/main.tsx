/**
 * @module Entry point: one routing client for the page's lifetime, then the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RoutingClient } from '../../src/routing/client/index.js';
import { App } from './app/App';
import './styles/base.css';
import './styles/layout.css';
import './styles/gallery.css';

const routing = new RoutingClient();
void routing.start();
window.addEventListener('pagehide', (e) => {
  if (!e.persisted) routing.close();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App routing={routing} />
  </StrictMode>,
);

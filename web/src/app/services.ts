/**
 * @module The services every page uses (the routing client, the API, and the watch on
 * writes refused for want of a quorum), passed down through one React context.
 */
import { createContext, useContext } from 'react';
import type { RoutingClient } from '../../../src/routing/client/index.js';
import type { Api } from '../api';
import type { QuorumWatch } from './quorum-watch';

export interface Services {
  routing: RoutingClient;
  api: Api;
  quorum: QuorumWatch;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside <ServicesContext>');
  return services;
}

/**
 * @module Where a process listens and what it serves (docs/deploy.md): the listen
 * address apart from the URL it is announced at, its certificate and key when it
 * serves HTTPS, and the CA inter-region calls verify peers against.
 *
 * - `listen` (`host:port`) unset: the URL's own host and port. A URL without a port is
 *   announced on the scheme's port (443, 80); the configuration must then say `listen`
 *   (refused otherwise), so nothing binds a random or privileged port by surprise.
 * - HTTPS is served when the process has `tls: {certFile, keyFile}`, or the global
 *   `tls` has them; an `https://` URL without them is served as HTTP (a proxy in front
 *   terminates TLS).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from './config.js';
import { ConfigError } from './config.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Where a process announced at `url` binds. */
export function listenAddress(url: string, listen?: string): ListenAddress {
  if (listen !== undefined) {
    const at = listen.lastIndexOf(':');
    const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
    return { host, port: Number(listen.slice(at + 1)) };
  }
  const u = new URL(url);
  if (u.port === '') throw new ConfigError(`${url} has no port: set "listen" (host:port) for it`);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) };
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface HttpsOptions {
  cert: Buffer;
  key: Buffer;
}

/** Which process of the configuration: a region, a witness, or the edge. */
export type ServedProcess = { region: string } | { witness: string } | 'edge';

function processOf(config: Config, who: ServedProcess): { url: string; listen?: string; tls?: TlsFiles } {
  if (who === 'edge') return config.edge;
  if ('region' in who) {
    const r = config.regions.find((x) => x.name === who.region);
    if (!r) throw new ConfigError(`no region "${who.region}" in the configuration`);
    return r;
  }
  const w = config.controlPlane.witnesses.find((x) => x.name === who.witness);
  if (!w) throw new ConfigError(`no witness "${who.witness}" in the configuration`);
  return w;
}

/** A configuration, and the file it came from (relative paths are from its folder; without one, from here). */
type Located = Config & { file?: string };

function fileOf(config: Located, path: string): string {
  if (isAbsolute(path)) return path;
  return config.file ? resolve(dirname(config.file), path) : resolve(path);
}

function readPem(config: Located, path: string, what: string): Buffer {
  const file = fileOf(config, path);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

/** The certificate and key a process serves HTTPS with (its own, else the global ones), or none. */
export function tlsFilesOf(config: Config, who: ServedProcess): TlsFiles | undefined {
  const own = processOf(config, who).tls;
  if (own) return own;
  const g = config.tls;
  return g?.certFile && g.keyFile ? { certFile: g.certFile, keyFile: g.keyFile } : undefined;
}

/** What a process needs to serve: where it binds, and its certificate and key if it serves HTTPS. */
export function servingOf(config: Located, who: ServedProcess): { listen: ListenAddress; https?: HttpsOptions } {
  const p = processOf(config, who);
  const listen = listenAddress(p.url, p.listen);
  const files = tlsFilesOf(config, who);
  if (!files) return { listen };
  return {
    listen,
    https: { cert: readPem(config, files.certFile, 'certificate'), key: readPem(config, files.keyFile, 'private key') },
  };
}

/** The CA (PEM) inter-region calls verify peers against, when the configuration names one. */
export function peerCa(config: Located): Buffer | undefined {
  return config.tls?.caFile ? readPem(config, config.tls.caFile, 'CA certificate') : undefined;
}

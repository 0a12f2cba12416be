/**
 * @module Secrets kept out of `mraa.config.json`: any value of `secrets` (tokenKey,
 * replicationKey, metricsToken, each of previousTokenKeys, any secret added later) may
 * be `{"env": "NAME"}`, read from that environment variable, or `{"file": "PATH"}`,
 * read from that file (its content, trimmed; relative to the configuration's folder).
 * A secret file must be its owner's alone (mode 0600 or stricter), like the
 * configuration: refused otherwise, naming the chmod that fixes it.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export class SecretSourceError extends Error {}

function isSource(v: unknown): v is { env: string } | { file: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'env' || keys[0] === 'file') && typeof Object.values(v)[0] === 'string';
}

function read(source: { env: string } | { file: string }, where: string, configFile: string): string {
  if ('env' in source) {
    const value = process.env[source.env];
    if (value === undefined || value.trim() === '')
      throw new SecretSourceError(`${where}: the environment variable ${source.env} is not set`);
    return value.trim();
  }
  const file = isAbsolute(source.file) ? source.file : resolve(dirname(configFile), source.file);
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    throw new SecretSourceError(`${where}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (mode & 0o077)
    throw new SecretSourceError(
      `${where}: ${file} holds a secret but has mode ${mode.toString(8).padStart(3, '0')}; run: chmod 600 ${file}`,
    );
  return readFileSync(file, 'utf8').trim();
}

/** The parsed configuration with every `{env}` / `{file}` of `secrets` replaced by its value. */
export function resolveSecretSources(raw: unknown, configFile: string): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const secrets = (raw as { secrets?: unknown }).secrets;
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) return raw;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(secrets)) {
    if (isSource(value)) out[key] = read(value, `secrets.${key}`, configFile);
    else if (Array.isArray(value))
      out[key] = value.map((v, i) => (isSource(v) ? read(v, `secrets.${key}[${i}]`, configFile) : v));
    else out[key] = value;
  }
  return { ...(raw as object), secrets: out };
}

/**
 * @module A lean Server-Sent Events subscriber on node:http for the state-event
 * measurement: each event is stamped with the moment its bytes arrived, before any
 * parsing, so a hundred subscribers in one process do not queue behind each other's
 * event handling (the `eventsource` package's parse-and-dispatch runs first otherwise).
 */
import { type ClientRequest, get } from 'node:http';
import { nowNs } from './clock.js';

export interface SseEvent {
  event: string;
  data: string;
  /** CLOCK_MONOTONIC ns when the chunk that completed this event arrived. */
  atNs: bigint;
}

export interface SseSubscription {
  /** Resolves once the response headers arrived. */
  opened: Promise<void>;
  close(): void;
}

export function subscribeSse(url: string, onEvent: (e: SseEvent) => void): SseSubscription {
  let req: ClientRequest;
  const opened = new Promise<void>((resolve, reject) => {
    req = get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE ${url}: HTTP ${res.statusCode}`));
      resolve();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const atNs = nowNs();
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length) onEvent({ event, data: data.join('\n'), atNs });
        }
      });
    });
    req.on('error', reject);
  });
  opened.catch(() => undefined);
  return { opened, close: () => req.destroy() };
}

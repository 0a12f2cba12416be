/**
 * @module A minimal Server-Sent Events reader for tests: collects `event`/`data`
 * pairs from a stream until closed.
 */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface SseSubscription {
  events: SseEvent[];
  close(): void;
}

export async function subscribe(url: string): Promise<SseSubscription> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let idx = buffer.indexOf('\n\n'); idx >= 0; idx = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          const ev: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) ev.event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            else if (line.startsWith('id:')) ev.id = line.slice(3).trim();
          }
          if (data.length) {
            ev.data = data.join('\n');
            events.push(ev);
          }
        }
      }
    } catch {
      /* closed */
    }
  })();
  return { events, close: () => controller.abort() };
}

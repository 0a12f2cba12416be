/**
 * The photos and comments API across two regions started in this process: uploads
 * replicated with their thumbnails and comments, and every refusal with its code.
 */
import type { NonSharedBuffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { image, nonShared } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const MAX_UPLOAD = 2 * 1024 * 1024;

async function upload(url: string, token: string | undefined, body: NonSharedBuffer, type: string) {
  const headers: Record<string, string> = { 'content-type': type };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/photos`, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function bytes(url: string, path: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe('photos and comments API', () => {
  let fx: Fixture;
  let primary: string;
  let secondary: string;
  let admin: string;
  let alice: string;
  let bob: string;
  let jpeg: NonSharedBuffer;
  let photoId: string;

  beforeAll(async () => {
    fx = await createFixture((c) => ({ ...c, settings: { ...c.settings, maxUploadBytes: MAX_UPLOAD } }));
    await fx.start('us-east-1');
    await fx.start('ap-northeast-1');
    primary = fx.url('us-east-1');
    secondary = fx.url('ap-northeast-1');
    admin = (await call(primary, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } }))
      .body.token;
    for (const name of ['alice', 'bob']) {
      expect(
        (
          await call(primary, 'POST', '/users', {
            json: { username: name, password: `${name}-password` },
            token: admin,
          })
        ).status,
      ).toBe(201);
    }
    alice = (await call(primary, 'POST', '/auth/signin', { json: { username: 'alice', password: 'alice-password' } }))
      .body.token;
    bob = (await call(primary, 'POST', '/auth/signin', { json: { username: 'bob', password: 'bob-password' } })).body
      .token;
    jpeg = await image('jpeg', 1200, 900);
  });
  afterAll(async () => fx.close());

  it('uploads in the primary; the secondary serves the same bytes, the thumbnail and the comments', async () => {
    const res = await upload(primary, alice, jpeg, 'image/jpeg');
    expect(res.status).toBe(201);
    photoId = res.body.photoId;
    expect(res.body).toMatchObject({
      owner: 'alice',
      contentType: 'image/jpeg',
      size: jpeg.length,
      width: 1200,
      height: 900,
    });
    expect(res.body.sha256).toBe(createHash('sha256').update(jpeg).digest('hex'));
    const comment = await call(primary, 'POST', `/comments/${photoId}`, {
      json: { message: '  first!  ' },
      token: bob,
    });
    expect(comment.status).toBe(201);
    expect(comment.body).toMatchObject({ photoId, user: 'bob', message: 'first!' });

    const replicated = await waitFor('the comment in the secondary', async () => {
      const r = await call(secondary, 'GET', `/comments/${photoId}`, { token: alice });
      return r.status === 200 && r.body.comments.length === 1 ? r : undefined;
    });
    expect(replicated.body.comments[0]).toEqual(comment.body);
    expect(Number(replicated.headers.get('x-replica-lag-ms'))).toBeGreaterThanOrEqual(0);
    // Bodies travel beside the log (DESIGN §5): the comment may arrive before the photo's
    // bodies, whose objects become visible once their bodies are there.
    const original = await waitFor('the original in the secondary', async () => {
      const r = await bytes(secondary, `/photos/${photoId}/image`, alice);
      return r.status === 200 ? r : undefined;
    });
    expect(original.body.equals(jpeg)).toBe(true);
    expect(original.headers.get('etag')).toBe(`"${res.body.sha256}"`);
    expect(original.headers.get('cache-control')).toContain('max-age');
    const thumb = await waitFor('the thumbnail in the secondary', async () => {
      const r = await bytes(secondary, `/photos/${photoId}/thumbnail`, alice);
      return r.status === 200 ? r : undefined;
    });
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(thumb.body).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBe(320);
    const listed = await call(secondary, 'GET', '/photos', { token: alice });
    expect(listed.body.photos.map((p: { photoId: string }) => p.photoId)).toContain(photoId);
  });

  it('serves byte ranges and answers If-None-Match with 304', async () => {
    const part = await bytes(primary, `/photos/${photoId}/image`, alice, { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${jpeg.length}`);
    expect(part.body.equals(jpeg.subarray(10, 20))).toBe(true);
    const etag = part.headers.get('etag')!;
    expect((await bytes(primary, `/photos/${photoId}/image`, alice, { 'if-none-match': etag })).status).toBe(304);
    const bad = await bytes(primary, `/photos/${photoId}/image`, alice, { range: `bytes=${jpeg.length + 5}-` });
    expect(bad.status).toBe(416);
  });

  it('lists newest first with a cursor', async () => {
    const more = [];
    for (let i = 0; i < 3; i++)
      more.push((await upload(primary, bob, await image('png', 50 + i, 40), 'image/png')).body.photoId);
    const first = await call(primary, 'GET', '/photos?limit=2', { token: alice });
    expect(first.body.photos.map((p: { photoId: string }) => p.photoId)).toEqual([more[2], more[1]]);
    const next = await call(primary, 'GET', `/photos?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, {
      token: alice,
    });
    expect(next.body.photos.map((p: { photoId: string }) => p.photoId)).toEqual([more[0], photoId]);
  });

  it('accepts PNG, WebP and GIF by their magic bytes', async () => {
    for (const t of ['png', 'webp', 'gif'] as const) {
      const res = await upload(primary, alice, await image(t, 64, 48), `image/${t}`);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ width: 64, height: 48, contentType: `image/${t}` });
    }
  });

  it('refuses a type it does not accept, and a body that claims one type and is another, with 415', async () => {
    const text = await upload(primary, alice, Buffer.from('hello'), 'text/plain');
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
    const svg = await upload(
      primary,
      alice,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
      'image/svg+xml',
    );
    expect(svg.status).toBe(415);
    const lying = await upload(primary, alice, jpeg, 'image/png');
    expect(lying.status).toBe(415);
    expect(lying.body.error.message).toContain('image/jpeg');
    const html = await upload(primary, alice, Buffer.from('<html><script>alert(1)</script></html>'), 'image/jpeg');
    expect(html.status).toBe(415);
    const corrupt = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(5000, 1)]);
    expect((await upload(primary, alice, corrupt, 'image/jpeg')).status).toBe(415);
  });

  it('refuses a body over the size limit with 413', async () => {
    const big = Buffer.concat([jpeg.subarray(0, 16), Buffer.alloc(MAX_UPLOAD + 1024)]);
    const res = await upload(primary, alice, big, 'image/jpeg');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('too_large');
  });

  it('refuses a decompression bomb (a small file claiming a huge image)', async () => {
    const bomb = nonShared(
      await sharp({
        create: { width: 10_000, height: 10_000, channels: 3, background: { r: 0, g: 0, b: 0 } },
      })
        .png({ compressionLevel: 9 })
        .toBuffer(),
    );
    expect(bomb.length).toBeLessThan(MAX_UPLOAD);
    const res = await upload(primary, alice, bomb, 'image/png');
    expect(res.status).toBe(413);
  });

  it('refuses malformed JSON, missing or wrong fields, and bad messages with 400', async () => {
    const malformed = await call(primary, 'POST', `/comments/${photoId}`, {
      body: '{"message":',
      headers: { 'content-type': 'application/json' },
      token: alice,
    });
    expect(malformed.status).toBe(400);
    expect((await call(primary, 'POST', `/comments/${photoId}`, { json: {}, token: alice })).status).toBe(400);
    expect((await call(primary, 'POST', `/comments/${photoId}`, { json: { message: 42 }, token: alice })).status).toBe(
      400,
    );
    expect(
      (await call(primary, 'POST', `/comments/${photoId}`, { json: { message: '   ' }, token: alice })).status,
    ).toBe(400);
    expect(
      (await call(primary, 'POST', `/comments/${photoId}`, { json: { message: 'x'.repeat(2001) }, token: alice }))
        .status,
    ).toBe(400);
    expect(
      (await call(primary, 'POST', `/comments/${photoId}`, { json: { message: 'bell\u0007' }, token: alice })).status,
    ).toBe(400);
    expect(
      (await call(primary, 'POST', `/comments/${photoId}`, { json: { message: 'hi', user: 'mallory' }, token: alice }))
        .status,
    ).toBe(400);
    const ok = await call(primary, 'POST', `/comments/${photoId}`, {
      json: { message: '😀'.repeat(2000) },
      token: alice,
    });
    expect(ok.status).toBe(201);
  });

  it('round-trips a comment with quotes, backslashes, </script> and characters outside the BMP unchanged, in both regions', async () => {
    const message = 'He said "hi" \\ and left </script><script>alert(1)</script> \u2028 𝄞 😀 👩‍👩‍👧 \'end\'\nline two';
    const posted = await call(primary, 'POST', `/comments/${photoId}`, { json: { message }, token: alice });
    expect(posted.status).toBe(201);
    expect(posted.body.message).toBe(message);
    expect(posted.headers.get('content-type')).toContain('application/json');
    const find = (r: { body: { comments: Array<{ commentId: string; message: string }> } }) =>
      r.body.comments.find((c) => c.commentId === posted.body.commentId);
    expect(find(await call(primary, 'GET', `/comments/${photoId}`, { token: alice }))?.message).toBe(message);
    const inSecondary = await waitFor('the comment in the secondary', async () =>
      find(await call(secondary, 'GET', `/comments/${photoId}`, { token: alice })),
    );
    expect(inSecondary.message).toBe(message);
  });

  it('answers 404 for an unknown photo, everywhere', async () => {
    for (const path of [
      '/photos/zzzz',
      '/photos/zzzz/image',
      '/photos/zzzz/thumbnail',
      '/comments/zzzz',
      '/photos/..%2F..%2Fetc',
    ]) {
      const res = await call(primary, 'GET', path, { token: alice });
      expect(res.status, path).toBe(404);
    }
    expect((await call(primary, 'POST', '/comments/zzzz', { json: { message: 'hi' }, token: alice })).status).toBe(404);
  });

  it('refuses a missing or forged token with 401', async () => {
    expect((await call(primary, 'GET', '/photos')).status).toBe(401);
    expect((await upload(primary, undefined, jpeg, 'image/jpeg')).status).toBe(401);
    const forged = `${alice.split('.').slice(0, 2).join('.')}.${Buffer.from('forged').toString('base64url')}`;
    expect((await call(primary, 'GET', '/photos', { token: forged })).status).toBe(401);
    expect(
      (await call(primary, 'POST', `/comments/${photoId}`, { json: { message: 'x' }, token: forged })).status,
    ).toBe(401);
  });

  it("keeps the author from the token, never from the body, and refuses deleting someone else's photo with 403", async () => {
    const res = await call(primary, 'DELETE', `/photos/${photoId}`, { token: bob });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('refuses writes in a passive region with 421 naming the active one', async () => {
    const res = await upload(secondary, alice, jpeg, 'image/jpeg');
    expect(res.status).toBe(421);
    expect(res.body.error).toMatchObject({ code: 'not_active_region', activeRegion: 'us-east-1', activeUrl: primary });
    const comment = await call(secondary, 'POST', `/comments/${photoId}`, { json: { message: 'hi' }, token: alice });
    expect(comment.status).toBe(421);
  });

  it('refuses writes while fenced with 503 and Retry-After; reads go on', async () => {
    expect((await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced' }, token: admin })).status).toBe(200);
    try {
      const res = await upload(primary, alice, jpeg, 'image/jpeg');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('fenced');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const comment = await call(primary, 'POST', `/comments/${photoId}`, { json: { message: 'hi' }, token: alice });
      expect(comment.status).toBe(503);
      expect((await call(primary, 'GET', `/comments/${photoId}`, { token: alice })).status).toBe(200);
    } finally {
      expect((await call(primary, 'PUT', '/state/photos', { json: { state: 'active' }, token: admin })).status).toBe(
        200,
      );
    }
  });

  it('deletes a photo (owner) with its comments, replicated as delete markers', async () => {
    const res = await call(primary, 'DELETE', `/photos/${photoId}`, { token: alice });
    expect(res.status).toBe(204);
    expect((await call(primary, 'GET', `/photos/${photoId}`, { token: alice })).status).toBe(404);
    await waitFor(
      'the delete in the secondary',
      async () => (await call(secondary, 'GET', `/photos/${photoId}`, { token: alice })).status === 404,
    );
    expect((await call(secondary, 'GET', `/photos/${photoId}/image`, { token: alice })).status).toBe(404);
    const versions = await fx.regions
      .get('ap-northeast-1')!
      .storage.objects.listVersions('photos', { prefix: `originals/${photoId}` });
    expect(versions.items.map((v) => v.deleteMarker)).toEqual([true, false]);
    const comments = await fx.regions.get('ap-northeast-1')!.storage.tables.query('comments', 'byPhoto', photoId);
    expect(comments.items).toEqual([]);
  });

  it('allows CORS from the edge origin only', async () => {
    const edge = new URL(fx.config.edge.url).origin;
    const ok = await fetch(`${primary}/photos`, {
      method: 'OPTIONS',
      headers: { origin: edge, 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe(edge);
    const evil = await fetch(`${primary}/photos`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});

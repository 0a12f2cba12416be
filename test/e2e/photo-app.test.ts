/**
 * The web app end to end in headless Chromium against a real `mraa up`: sign in,
 * upload, thumbnail, comment; the fenced banner appears without a reload when
 * `mraa fence` runs; the app moves to the secondary without a reload when
 * `mraa failover` runs; a comment posted then lands in the secondary; with the witness
 * and the secondary stopped, writes pause with the no-quorum banner and resume by
 * themselves when the witness returns. A screenshot of each step is saved in test-output/e2e/.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, INSTALL_HINT, launchChromium } from '../helpers/browser.js';
import { image } from '../helpers/images.js';
import { allComments } from '../helpers/load.js';
import { ADMIN_PASSWORD, type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';

const OUT = join(process.cwd(), 'test-output', 'e2e');
const P = 'us-east-1';
const S = 'ap-northeast-1';

if (!HAS_CHROMIUM) console.warn(INSTALL_HINT);

describe.skipIf(!HAS_CHROMIUM)('web app in Chromium', { timeout: 180_000 }, () => {
  let d: LocalDeployment;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  let shot = 0;
  const screenshot = async (name: string) => {
    await page.screenshot({ path: join(OUT, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    d = await startDeployment();
    const created = await fetch(`${d.url[P]}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    });
    expect(created.status).toBe(201);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (msg) => {
      // Chromium logs every 4xx/5xx response itself; page code cannot silence those.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await d?.close();
  });

  it('signs in', async () => {
    await page.goto(d.config.edge.url);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await screenshot('sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Upload photos' }).waitFor();
    await expect(page.locator('.region-name').textContent()).resolves.toBe(P);
    // A marker that a reload would wipe: every later step checks it is still there.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    await screenshot('signed-in');
  });

  it('uploads a photo and shows its thumbnail', async () => {
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: await image('png', 900, 600) });
    await page.locator('.tile img[src^="blob:"]').first().waitFor();
    await expect(page.getByText('Uploaded').first().isVisible()).resolves.toBe(true);
    await screenshot('uploaded-thumbnail');
  });

  it('comments on the photo', async () => {
    await page.locator('.tile a').first().click();
    await page.getByRole('textbox', { name: 'Comment' }).fill('What a sunset! "quoted" </script> 🌅');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.getByText('What a sunset! "quoted" </script> 🌅').waitFor();
    await screenshot('commented');
  });

  it('shows the fenced banner without a reload when `mraa fence` runs', async () => {
    const fence = await d.cli(['fence', '--reason', 'e2e']);
    expect(fence.code, fence.stderr).toBe(0);
    await page.getByText('Writes are paused: the application is fenced.').waitFor();
    await expect(page.getByRole('button', { name: 'Post comment' }).isDisabled()).resolves.toBe(true);
    await expect(page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).resolves.toBe(true);
    await screenshot('fenced-banner');
  });

  it('moves to the secondary region without a reload when `mraa failover` runs', async () => {
    const over = await d.cli(['failover']);
    expect(over.code, over.stderr).toBe(0);
    await page.getByText(`Running from the secondary region ${S}.`).waitFor();
    await page.locator('.region-name', { hasText: S }).waitFor();
    await expect(page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).resolves.toBe(true);
    await screenshot('failover');
  });

  it('posts a comment that lands in the secondary', async () => {
    const text = 'Posted while running from the secondary';
    await page.getByRole('textbox', { name: 'Comment' }).fill(text);
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.getByText(text).waitFor();
    const photoId = decodeURIComponent(page.url().split('/').pop()!);
    const inSecondary = await allComments(d.url[S]!, d.adminToken, photoId);
    expect(inSecondary.map((c) => c.message)).toContain(text);
    await screenshot('comment-in-secondary');
  });

  it("lets an admin fail back from the operations console, with the plan's progress", async () => {
    const admin = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    admin.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    await admin.goto(d.config.edge.url);
    await admin.getByLabel('Username').fill('admin');
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Operations' }).click();
    await admin.getByRole('heading', { name: 'Replication lag' }).waitFor();
    await admin.getByRole('heading', { name: S }).waitFor();
    await admin.getByRole('button', { name: 'Fail back', exact: true }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Fail back' }).click();
    await admin.locator('.region-name', { hasText: P }).waitFor();
    await admin.screenshot({
      path: join(OUT, `${String(++shot).padStart(2, '0')}-operations-failback.png`),
      fullPage: true,
    });
    // The user's page follows by itself, again without a reload.
    await page.locator('.region-name', { hasText: P }).waitFor();
    await expect(page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).resolves.toBe(true);

    // Simulate an outage of the secondary from the console, then bring it back.
    const card = admin.locator('.region-card', { has: admin.getByRole('heading', { name: S }) });
    await admin.getByRole('button', { name: `Stop ${S}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await card.getByText('Down').waitFor({ timeout: 15_000 });
    await expect.poll(async () => (await fetch(`${d.url[S]}/healthz`).catch(() => undefined))?.ok ?? false).toBe(false);
    await admin.screenshot({
      path: join(OUT, `${String(++shot).padStart(2, '0')}-operations-region-stopped.png`),
      fullPage: true,
    });
    await admin.getByRole('button', { name: `Start ${S}` }).click();
    await card.getByText('Up', { exact: true }).waitFor({ timeout: 30_000 });
    expect(d.up.output()).toContain(`Region ${S} stopped from the operations console`);
    await admin.close();
  });

  it('pauses writes while the regions cannot agree, and resumes by itself when a voter returns', async () => {
    const local = async (name: string, action: 'stop' | 'start') => {
      const res = await fetch(`${d.config.edge.url}/local/regions/${name}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${d.adminToken}` },
      });
      expect(res.status, await res.text()).toBe(200);
    };
    const primaryLease = async () => {
      const res = await fetch(`${d.url[P]}/status`, { headers: { authorization: `Bearer ${d.adminToken}` } });
      return ((await res.json()) as { controlPlane?: { lease: unknown } }).controlPlane?.lease ?? null;
    };
    const admin = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    admin.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    await admin.goto(d.config.edge.url);
    await admin.getByLabel('Username').fill('admin');
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Operations' }).click();
    await admin.getByRole('heading', { name: 'Voters' }).waitFor();
    await admin.getByText('Writer lease:').waitFor();

    // The witness and the secondary go: the primary alone is one voter of three.
    await local('witness', 'stop');
    await local(S, 'stop');
    const banner = page.getByText('Writes are paused: the regions cannot agree.');
    await banner.waitFor({ timeout: 20_000 });
    await expect(page.getByRole('button', { name: 'Post comment' }).isDisabled()).resolves.toBe(true);
    await page.locator('.paused-reason', { hasText: 'Comments resume by themselves' }).waitFor();
    await screenshot('no-quorum-banner');
    // Once the primary's lease has run out, a write is refused with 503 no_quorum.
    await expect.poll(() => primaryLease(), { timeout: 15_000 }).toBeNull();
    const photoId = decodeURIComponent(page.url().split('/').pop()!);
    const refused = await fetch(`${d.url[P]}/comments/${encodeURIComponent(photoId)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'no quorum' }),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('no_quorum');
    await admin.getByText('No quorum: writes are paused.').waitFor({ timeout: 15_000 });
    await admin.screenshot({
      path: join(OUT, `${String(++shot).padStart(2, '0')}-operations-no-quorum.png`),
      fullPage: true,
    });

    // The witness returns: with the primary, a majority. The page resumes by itself.
    await local('witness', 'start');
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await expect(page.getByRole('textbox', { name: 'Comment' }).isDisabled()).resolves.toBe(false);
    await expect.poll(() => primaryLease(), { timeout: 15_000 }).not.toBeNull();
    const text = 'Posted once the regions agreed again';
    await page.getByRole('textbox', { name: 'Comment' }).fill(text);
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.getByText(text).waitFor();
    await expect(page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).resolves.toBe(true);
    await local(S, 'start');
    await admin.getByText('No quorum: writes are paused.').waitFor({ state: 'detached' });
    await admin.close();
  });

  it('fits a phone-sized screen', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${d.config.edge.url}/#/`);
    await page.getByRole('heading', { name: 'Upload photos' }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot('phone');
  });

  it('logged no errors in the browser console', () => {
    expect(consoleErrors).toEqual([]);
  });
});

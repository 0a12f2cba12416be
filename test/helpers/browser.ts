/**
 * @module Headless Chromium for browser tests: Debian's `chromium` driven by
 * playwright-core (no browser download). When it is missing, the tests are skipped
 * and say how to install it.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const INSTALL_HINT =
  'browser tests skipped: Chromium is not installed. Install it with: sudo apt-get update && sudo apt-get install -y chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

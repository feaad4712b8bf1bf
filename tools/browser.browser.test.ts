import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserSkipReason, launchChromium, serveDir } from './browser.js';

const skip = browserSkipReason();
if (skip) console.log(skip);

describe.skipIf(skip !== undefined)('tools/browser harness', () => {
  let dir: string;
  let browser: Browser;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'harness-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title><p>hello</p>');
    // The smallest valid wasm module: magic number and version.
    await writeFile(join(dir, 'empty.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    await writeFile(join(dir, 'm.js'), 'export const x = 1;');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves with the MIME types browsers require, 404 for missing files', async () => {
    const server = await serveDir(dir);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const wasm = await fetch(`${server.url}/empty.wasm`);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect((await fetch(`${server.url}/m.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
      expect((await fetch(`${server.url}/index.html`)).headers.get('content-type')).toMatch(/^text\/html/);
      expect((await fetch(`${server.url}/missing.txt`)).status).toBe(404);
      expect((await fetch(`${server.url}/../../etc/passwd`)).status).toBe(404);
      expect(wasm.headers.get('cross-origin-embedder-policy')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('isolated pages are cross-origin isolated and others are not; WebGL works', async () => {
    for (const isolated of [true, false]) {
      const server = await serveDir(dir, { isolated });
      const page = await browser.newPage();
      try {
        await page.goto(`${server.url}/index.html`);
        const state = await page.evaluate(async () => {
          const gl = document.createElement('canvas').getContext('webgl2');
          const mod = await WebAssembly.compileStreaming(fetch('./empty.wasm'));
          return { isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer, webgl2: gl !== null, wasm: mod instanceof WebAssembly.Module };
        });
        expect(state.isolated).toBe(isolated);
        expect(state.sab).toBe(isolated ? 'function' : 'undefined');
        expect(state.webgl2).toBe(true);
        expect(state.wasm).toBe(true);
      } finally {
        await page.close();
        await server.close();
      }
    }
  });
});

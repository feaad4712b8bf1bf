/**
 * The project's harness for tests in a real browser: Debian's Chromium driven
 * by playwright-core (no browser download), and a static file server for the
 * pages under test. Used by every `*.browser.test.ts`.
 *
 *   const server = await serveDir(dir, { isolated: true });
 *   const browser = await launchChromium();
 *   const page = await browser.newPage();
 *   await page.goto(`${server.url}/index.html`);
 *   ...
 *   await browser.close(); await server.close();
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * SwiftShader gives headless Chromium WebGL (and a software WebGPU adapter)
 * without a GPU; the rest keeps the browser from reaching the network.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** True when the Chromium executable the harness drives is installed. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Why browser tests cannot run here, or undefined when they can. Under CI
 * (`CI` set) a missing Chromium is an error, never a skip: `.ci/run`
 * installs it.
 */
export function browserSkipReason(): string | undefined {
  if (hasChromium()) return undefined;
  if (process.env.CI) {
    throw new Error(`${CHROMIUM_PATH} is missing under CI; .ci/run installs it with apt-get install chromium`);
  }
  return `${CHROMIUM_PATH} is not installed (apt-get install chromium); browser tests skipped`;
}

export interface LaunchChromiumOptions extends Omit<LaunchOptions, 'executablePath'> {
  /** Extra command-line flags, after the harness's own. */
  extraArgs?: string[];
}

/** Starts headless Chromium from /usr/bin/chromium with the project's flags. */
export async function launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
  if (!hasChromium()) {
    throw new Error(`launchChromium: ${CHROMIUM_PATH} is not installed (apt-get install chromium)`);
  }
  const { extraArgs = [], args = [], ...rest } = opts;
  return chromium.launch({
    headless: true,
    ...rest,
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...args, ...extraArgs],
  });
}

export interface ServeDirOptions {
  /**
   * Send COOP `same-origin` and COEP `require-corp`, so the page is
   * cross-origin isolated (SharedArrayBuffer, multi-threaded wasm).
   */
  isolated?: boolean;
}

export interface ServedDir {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` over HTTP on 127.0.0.1 at a free port, with MIME types that
 * browsers insist on (`application/wasm` for streaming compilation,
 * `text/javascript` for modules). sirv handles paths, ranges and types.
 */
export async function serveDir(dir: string, opts: ServeDirOptions = {}): Promise<ServedDir> {
  if (!existsSync(dir)) throw new Error(`serveDir: dir '${dir}' does not exist`);
  const isolated = opts.isolated ?? false;
  const setIsolation = (res: { setHeader(name: string, value: string): unknown }): void => {
    res.setHeader('Cache-Control', 'no-store');
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    }
  };
  const handler = sirv(dir, { dev: true, dotfiles: false, setHeaders: setIsolation });
  const server = createServer((req, res) => {
    setIsolation(res);
    handler(req, res, () => {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`not found: ${req.url ?? ''}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface BundlePageOptions {
  /** The page's script (TypeScript or JavaScript), bundled with its imports. */
  entry: string;
  /** Directory that receives `index.html` and `main.js` (created). */
  outDir: string;
  /** Page title; the page is an empty body that loads `main.js` as a module. */
  title?: string;
  /**
   * 'error' (default): a `node:` import reachable from the page fails the
   * bundle, as it would for a user. 'stub': each resolves to an empty module,
   * for test pages that import a package whose Node-only parts they never call.
   */
  nodeBuiltins?: 'error' | 'stub';
}

/**
 * Bundles a test page's script with esbuild for the browser, resolving
 * workspace packages to their TypeScript (`source` condition) and their
 * `browser` variants, and writes a minimal `index.html` next to it.
 */
export async function bundlePage(opts: BundlePageOptions): Promise<void> {
  const { build } = await import('esbuild');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(opts.outDir, { recursive: true });
  await build({
    entryPoints: [opts.entry],
    outfile: join(opts.outDir, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['source', 'browser', 'module', 'import', 'default'],
    logLevel: 'error',
    sourcemap: false,
    plugins:
      opts.nodeBuiltins === 'stub'
        ? [{
            name: 'stub-node-builtins',
            setup(b) {
              b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
              // CommonJS, so any named import resolves (to undefined) instead of failing the build.
              b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
            },
          }]
        : [],
  });
  const title = opts.title ?? 'test page';
  await writeFile(
    join(opts.outDir, 'index.html'),
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
      `<body><script type="module" src="./main.js"></script></body></html>\n`,
  );
}

// The page's chrome: elements by id, the state and status lines, errors and
// notices in #error, the automation API, canvas scaling and downloads.
import * as tf from '@tensorflow/tfjs';

const SCALE = 4;

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

/** What tests and automation read besides the DOM. */
export interface PlaygroundApi {
  backend?: string;
  samplers: string[];
  /** The last sampled images, [n, h, w, c] floats. */
  samples?: Float32Array;
  msPerStep?: number;
  /** Threads the last sampling ran on (the page and its workers). */
  threads?: number;
  losses: number[];
  model?: string;
  error?: string;
  /** Tensors tfjs holds on the page now (leak checks). */
  readonly numTensors: number;
}
export const api: PlaygroundApi = { samplers: [], losses: [], get numTensors() { return tf.memory().numTensors; } };
declare global {
  interface Window {
    playground: PlaygroundApi;
  }
}
window.playground = api;

export function setState(state: string): void {
  document.body.dataset.state = state;
}

export function status(text: string): void {
  $('status').textContent = text;
}

export function showError(err: unknown, where: string): void {
  const msg = err instanceof Error ? err.message : String(err);
  const box = $('error');
  box.hidden = false;
  box.textContent = `${where}: ${msg}`;
  api.error = box.textContent;
  setState('error');
  console.error(err);
}

/** A problem the page recovered from: shown in #error, the run's state unchanged. */
export function showNotice(text: string): void {
  const box = $('error');
  box.hidden = false;
  box.textContent = text;
  api.error = text;
}

export function clearError(): void {
  const box = $('error');
  box.hidden = true;
  box.textContent = '';
  api.error = undefined;
}

/** Pixels are enlarged (at most SCALE times) so a grid is about 500 CSS pixels wide: preview and result fit side by side. */
export function scaleCanvas(c: HTMLCanvasElement): void {
  const k = Math.min(SCALE, 500 / c.width);
  c.style.width = `${Math.round(c.width * k)}px`;
  c.style.height = `${Math.round(c.height * k)}px`;
}

export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

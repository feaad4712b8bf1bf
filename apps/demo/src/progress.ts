import cliProgress from 'cli-progress';

export interface Progress {
  update(step: number, loss: number, imagesPerSecond: number): void;
  log(line: string): void;
  stop(): void;
}

/** A cli-progress bar with step, loss, images/s and ETA; plain lines when stdout is not a terminal. */
export function createProgress(start: number, total: number, batchSize: number, quiet = false): Progress {
  if (quiet) return { update() {}, log() {}, stop() {} };
  if (!process.stdout.isTTY) {
    let last = 0;
    return {
      update(step, loss, ips) {
        const now = Date.now();
        if (now - last < 5000 && step < total) return;
        last = now;
        const eta = ips > 0 ? Math.round(((total - step) * batchSize) / ips) : 0;
        console.log(`step ${step}/${total}  loss ${loss.toFixed(4)}  ${ips.toFixed(1)} img/s  ETA ${eta} s`);
      },
      log: (l) => console.log(l),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'train [{bar}] step {value}/{total} | loss {loss} | {ips} img/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, start, { loss: '-', ips: '-' });
  // The bar's value, kept here: cli-progress' typings do not expose it.
  let value = start;
  return {
    update(step, loss, ips) {
      value = step;
      bar.update(step, { loss: loss.toFixed(4), ips: ips.toFixed(1) });
    },
    log(line) {
      bar.stop();
      console.log(line);
      bar.start(total, value, {});
    },
    stop: () => bar.stop(),
  };
}

/** A bar for other long work (sampling): done/total with rate and ETA; plain lines every 5 s off a terminal. */
export function createTaskProgress(label: string, total: number, unit: string, quiet = false): { update(done: number): void; stop(): void } {
  if (quiet) return { update() {}, stop() {} };
  const t0 = Date.now();
  if (!process.stdout.isTTY) {
    let last = t0;
    return {
      update(done) {
        done = Math.floor(done);
        const now = Date.now();
        if (now - last < 5000 && done < total) return;
        last = now;
        const rate = (done * 1000) / Math.max(1, now - t0);
        console.log(`${label} ${done}/${total} ${unit}  ${rate.toFixed(1)} ${unit}/s  ETA ${rate > 0 ? Math.round((total - done) / rate) : 0} s`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: '-' });
  return {
    update(done) {
      bar.update(Math.floor(done), { rate: ((done * 1000) / Math.max(1, Date.now() - t0)).toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}

/**
 * Stop requests shared by the long commands: Ctrl-C (SIGINT), SIGTERM (a
 * supervisor's `kill`), SIGHUP (the terminal closed) and the launcher's end
 * are one request. The first asks the loop to stop (it saves and returns), a
 * second exits at once with 128 + the signal's number. The second-signal exit
 * stays armed after `release()` while the command winds down (workers,
 * disposal), so a second signal then is never the default signal death.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The shell's exit code for a stop by `signal`: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP. */
export const exitCodeOf = (signal: StopSignal): number => 128 + constants.signals[signal];

/** How a stop request is named in messages. */
export const stopName = (signal: StopSignal): string => (signal === 'SIGINT' ? 'Ctrl-C' : signal);

export interface StopRequest {
  /** The signal of the first request, once there is one. */
  readonly signal: StopSignal | undefined;
  release(): void;
}

/** The pids of the package-manager processes between this process and the shell or supervisor that started them (Linux: /proc). */
function launcherPids(): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  for (let i = 0; i < 8 && pid > 1; i++) {
    let cmd: string;
    let stat: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      break;
    }
    // Only launchers: pnpm, npm/npx and the `sh -c` they run scripts through. The user's shell or supervisor is where it ends.
    if (!/\b(pnpm|npm|npx)\b|^(\/\S*\/)?(sh|dash|bash) -c /.test(cmd)) break;
    out.push(pid);
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Calls `onFirst` at the first stop request: SIGINT, SIGTERM, SIGHUP, or the end
 * of the launcher (`pnpm`, `npx`) that started this process, which is seen as
 * SIGHUP (a launcher killed alone does not pass the signal on through its shell).
 */
export function onStop(onFirst: (signal: StopSignal) => void): StopRequest {
  let first: StopSignal | undefined;
  const exitNow = (signal: StopSignal) => {
    process.stderr.write(`\n${stopName(signal)} again: exiting without saving\n`);
    process.exit(exitCodeOf(first ?? signal));
  };
  const handler = (signal: StopSignal) => {
    if (first) exitNow(signal);
    first = signal;
    // A closed terminal fails writes to it: they must not end the process before it saves.
    if (signal === 'SIGHUP') for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    onFirst(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  const launchers = launcherPids();
  const watch = launchers.length
    ? setInterval(() => {
      if (!first && launchers.some((p) => !alive(p))) handler('SIGHUP');
    }, 500).unref()
    : undefined;
  return {
    get signal() {
      return first;
    },
    release() {
      if (watch) clearInterval(watch);
      for (const s of STOP_SIGNALS) process.off(s, handler);
      if (first) for (const s of STOP_SIGNALS) process.once(s, exitNow);
    },
  };
}

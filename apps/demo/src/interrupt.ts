/**
 * Ctrl-C handling shared by the long commands: the first Ctrl-C asks the loop to stop
 * (it saves and returns), a second one exits at once with 130. The second-Ctrl-C exit
 * stays armed after `release()` while the command winds down (workers, disposal), so a
 * second Ctrl-C then is never the default signal death.
 */
export function onCtrlC(onFirst: () => void): { readonly requested: boolean; release(): void } {
  let requested = false;
  const exitNow = () => {
    process.stderr.write('\nexiting without saving\n');
    process.exit(130);
  };
  const handler = () => {
    if (requested) exitNow();
    requested = true;
    onFirst();
  };
  process.on('SIGINT', handler);
  return {
    get requested() {
      return requested;
    },
    release() {
      process.off('SIGINT', handler);
      if (requested) process.once('SIGINT', exitNow);
    },
  };
}

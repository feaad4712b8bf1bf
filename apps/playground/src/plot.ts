/** A small line plot of the training loss on a canvas (log-scaled y, a moving average over the raw points). */

export function drawLossPlot(canvas: HTMLCanvasElement, losses: number[]): void {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width;
  const H = canvas.height;
  const pad = { l: 48, r: 10, t: 10, b: 24 };
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad.l, pad.t, W - pad.l - pad.r, H - pad.t - pad.b);
  ctx.fillStyle = '#333';
  ctx.font = '11px system-ui, sans-serif';
  const finite = losses.filter((v) => Number.isFinite(v) && v > 0);
  if (finite.length === 0) {
    ctx.fillText('loss appears here once training starts', pad.l + 8, pad.t + 20);
    return;
  }
  const lo = Math.log10(Math.min(...finite));
  const hi = Math.log10(Math.max(...finite));
  const span = Math.max(hi - lo, 0.05);
  const x = (i: number) => pad.l + ((W - pad.l - pad.r) * i) / Math.max(1, losses.length - 1);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - (Math.log10(v) - lo) / span);
  const line = (vals: number[], color: string, width: number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    let started = false;
    vals.forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0)) return;
      if (started) ctx.lineTo(x(i), y(v));
      else ctx.moveTo(x(i), y(v));
      started = true;
    });
    ctx.stroke();
  };
  line(losses, '#9ecae1', 1);
  const k = Math.max(1, Math.round(losses.length / 30));
  const smooth = losses.map((_, i) => {
    const part = losses.slice(Math.max(0, i - k + 1), i + 1).filter((v) => Number.isFinite(v));
    return part.reduce((a, b) => a + b, 0) / Math.max(1, part.length);
  });
  line(smooth, '#08519c', 2);
  ctx.fillStyle = '#333';
  ctx.fillText(10 ** hi < 10 ? (10 ** hi).toFixed(3) : (10 ** hi).toPrecision(3), 4, pad.t + 10);
  ctx.fillText((10 ** lo).toFixed(3), 4, H - pad.b);
  ctx.fillText(`step ${losses.length}`, W - pad.r - 60, H - 6);
  ctx.fillText('loss (log scale)', pad.l + 6, H - 6);
}

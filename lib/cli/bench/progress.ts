/**
 * The progress bar: one line on stderr, redrawn at most ten times a second, and only when
 * stderr is a terminal (nothing at all in CI logs or when piped).
 *
 * @module
 */

/** What the runner reports while it works. */
export interface ProgressSink {
  /** How many {@link step}s the run will take. */
  plan(totalSteps: number): void;
  /** A new step: `label`, expected to take `total` units (operations or milliseconds). */
  step(label: string, total: number): void;
  /** `units` more done in the current step. */
  advance(units?: number): void;
  /** Clears the bar for good. */
  finish(): void;
}

/** Discards everything. */
export const silentProgress: ProgressSink = Object.freeze({
  plan: () => undefined,
  step: () => undefined,
  advance: () => undefined,
  finish: () => undefined,
});

const WIDTH = 24;
const REDRAW_MS = 100;

/** Draws on a TTY stream. */
export class TtyProgress implements ProgressSink {
  private label = '';
  private total = 1;
  private done = 0;
  private stepIndex = 0;
  private totalSteps = 1;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** A bar on `process.stderr` when it is a TTY, otherwise {@link silentProgress}. */
  static forStderr(): ProgressSink {
    return process.stderr.isTTY ? new TtyProgress(process.stderr) : silentProgress;
  }

  plan(totalSteps: number): void {
    this.totalSteps = Math.max(1, totalSteps);
    this.stepIndex = 0;
  }

  step(label: string, total: number): void {
    this.label = label;
    this.total = Math.max(1, total);
    this.done = 0;
    this.stepIndex++;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.draw(), REDRAW_MS);
      this.timer.unref();
    }
    this.draw();
  }

  advance(units = 1): void {
    this.done += units;
  }

  finish(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stream.write('\r\x1b[2K');
  }

  private draw(): void {
    const fraction = Math.min(1, this.done / this.total);
    const filled = Math.round(fraction * WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
    const line = `${bar} ${String(Math.round(fraction * 100)).padStart(3)}%  step ${Math.min(this.stepIndex, this.totalSteps)}/${this.totalSteps}  ${this.label}`;
    const columns = this.stream.columns || 100;
    this.stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
  }
}

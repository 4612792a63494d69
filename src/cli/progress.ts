/**
 * Progress on stderr for the slow commands: a bar (cli-progress) when a stage counts its work
 * (nodes run, weights compared), a spinner otherwise, with the current stage's name.
 *
 * Shown only on a TTY, never with --json, and only once the work has lasted `delayMs` (1 s):
 * short commands print nothing. The line is cleared when the work ends. Kernels and readers run
 * synchronously for long stretches, so the display is also drawn from the progress events
 * themselves (a timer alone would wait for the event loop).
 *
 * Test hooks (not for users): MCONV_FORCE_PROGRESS=1 treats stderr as a TTY;
 * MCONV_PROGRESS_DELAY_MS overrides the 1 s delay.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../api.js';

export type { ProgressEvent };

const STAGE_LABEL: Record<ProgressEvent['stage'], string> = {
  read: 'reading',
  optimize: 'optimizing',
  convert: 'converting',
  write: 'writing',
  run: 'running',
  compare: 'comparing',
};

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** What the progress display writes to: a TTY stream (or stderr posing as one in tests). */
interface TtyLike {
  isTTY: boolean;
  columns?: number;
  write(s: string): boolean;
}

export interface ProgressOptions {
  /** --json: no progress at all. */
  json?: boolean;
  stream?: NodeJS.WriteStream;
  delayMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function progressEnabled(opts: ProgressOptions = {}): boolean {
  const env = opts.env ?? process.env;
  if (opts.json) return false;
  if (env.MCONV_FORCE_PROGRESS === '1') return true;
  return (opts.stream ?? process.stderr).isTTY === true && env.TERM !== 'dumb';
}

export class Progress {
  readonly enabled: boolean;
  private readonly out?: TtyLike;
  private readonly delayMs: number;
  private readonly started = Date.now();
  private current?: ProgressEvent;
  private shown = false;
  private stopped = false;
  private delayTimer?: NodeJS.Timeout;
  private spinTimer?: NodeJS.Timeout;
  private frame = 0;
  private bar?: cliProgress.SingleBar;
  private barStage?: string;
  private lastSpinDraw = 0;
  private lastSpinText = '';

  constructor(opts: ProgressOptions = {}) {
    const env = opts.env ?? process.env;
    this.enabled = progressEnabled(opts);
    const delayEnv = Number(env.MCONV_PROGRESS_DELAY_MS);
    this.delayMs = opts.delayMs ?? (env.MCONV_PROGRESS_DELAY_MS !== undefined && Number.isFinite(delayEnv) ? delayEnv : 1000);
    if (this.enabled) {
      const stream = opts.stream ?? process.stderr;
      this.out = {
        isTTY: true,
        get columns() {
          return stream.columns || 80;
        },
        write: (s: string) => stream.write(s),
      };
    }
  }

  /** The callback to hand to the API (`onProgress`). */
  readonly onProgress = (e: ProgressEvent): void => {
    if (!this.enabled || this.stopped) return;
    this.current = e;
    if (!this.shown) {
      const waited = Date.now() - this.started;
      if (waited < this.delayMs) {
        if (!this.delayTimer) {
          this.delayTimer = setTimeout(() => this.draw(), this.delayMs - waited);
          this.delayTimer.unref();
        }
        return;
      }
    }
    this.draw();
  };

  private draw(): void {
    const e = this.current;
    if (!e || this.stopped || !this.out) return;
    this.shown = true;
    const label = STAGE_LABEL[e.stage] ?? e.stage;
    const detail = e.detail ? ` ${e.detail}` : '';
    if (e.total !== undefined && e.total > 0 && e.done !== undefined) {
      this.stopSpinner();
      if (!this.bar || this.barStage !== e.stage) {
        this.stopBar();
        this.bar = new cliProgress.SingleBar(
          {
            stream: this.out as unknown as NodeJS.WritableStream,
            format: '{label} [{bar}] {value}/{total}{detail}',
            barsize: 24,
            clearOnComplete: true,
            hideCursor: false,
            linewrap: false,
            etaBuffer: 20,
            synchronousUpdate: true,
            gracefulExit: false,
          },
          cliProgress.Presets.shades_classic,
        );
        this.barStage = e.stage;
        this.bar.start(e.total, e.done, { label, detail: truncate(detail, 40) });
      } else {
        this.bar.setTotal(e.total);
        this.bar.update(e.done, { label, detail: truncate(detail, 40) });
      }
      return;
    }
    this.stopBar();
    this.spin(`${label}${truncate(detail, 60)}`);
    if (!this.spinTimer) {
      this.spinTimer = setInterval(() => {
        const c = this.current;
        if (c && !this.bar) this.spin(`${STAGE_LABEL[c.stage] ?? c.stage}${truncate(c.detail ? ` ${c.detail}` : '', 60)}`);
      }, 100);
      this.spinTimer.unref();
    }
  }

  private spin(text: string): void {
    const now = Date.now();
    // A new stage always shows at once; the same text redraws at most every 80 ms.
    if (text === this.lastSpinText && this.lastSpinDraw && now - this.lastSpinDraw < 80) return;
    this.lastSpinDraw = now;
    this.lastSpinText = text;
    this.frame = (this.frame + 1) % SPINNER.length;
    this.out!.write(`\r\x1b[2K${SPINNER[this.frame]} ${text}`);
  }

  private stopSpinner(): void {
    if (this.spinTimer) clearInterval(this.spinTimer);
    this.spinTimer = undefined;
    if (this.lastSpinDraw) this.out?.write('\r\x1b[2K');
    this.lastSpinDraw = 0;
  }

  private stopBar(): void {
    if (this.bar) this.bar.stop();
    this.bar = undefined;
    this.barStage = undefined;
  }

  /** Ends the display and clears its line (safe to call more than once). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.stopSpinner();
    this.stopBar();
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Runs `work` with a progress display for a command; the display is cleared however it ends. */
export async function withProgress<T>(args: { json?: boolean }, work: (onProgress: ((e: ProgressEvent) => void) | undefined) => Promise<T>): Promise<T> {
  const p = new Progress({ json: args.json });
  try {
    return await work(p.enabled ? p.onProgress : undefined);
  } finally {
    p.stop();
  }
}

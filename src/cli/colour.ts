/**
 * Terminal colour for the CLI's text output, and nothing else: never for --json, never through a
 * pipe. `NO_COLOR` (any non-empty value) turns colour off and wins over everything; `FORCE_COLOR`
 * (non-empty, not `0`/`false`) turns it on for a non-TTY; otherwise colour follows `isTTY`.
 */

export interface ColourStream {
  isTTY?: boolean;
}

/** Whether text written to `stream` should carry colour codes. */
export function colourEnabled(stream: ColourStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export type Paint = (text: string) => string;

/** The styles the CLI uses, each the identity when colour is off. */
export interface Colours {
  enabled: boolean;
  heading: Paint;
  ok: Paint;
  warn: Paint;
  error: Paint;
  dim: Paint;
}

// SGR open/close pairs: bold, green, yellow, red, dim.
const sgr = (open: number, close: number): Paint => (t) => (t ? `\x1b[${open}m${t}\x1b[${close}m` : t);
const plainPaint: Paint = (t) => t;

export const PLAIN: Colours = { enabled: false, heading: plainPaint, ok: plainPaint, warn: plainPaint, error: plainPaint, dim: plainPaint };
const PAINTED: Colours = { enabled: true, heading: sgr(1, 22), ok: sgr(32, 39), warn: sgr(33, 39), error: sgr(31, 39), dim: sgr(2, 22) };

/** Colours for a stream (stdout by default), decided by `colourEnabled`. */
export function coloursFor(stream: ColourStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Colours {
  return colourEnabled(stream, env) ? PAINTED : PLAIN;
}

/** Colours a leading `Heading:` label of each line that has one (tables and values untouched). */
export function paintHeadings(text: string, c: Colours, labels: RegExp): string {
  if (!c.enabled) return text;
  return text.replace(labels, (m) => c.heading(m));
}

/** Colours an isclose report (runtime/compare formatReport): FAIL lines red, PASS lines green. */
export function paintReport(text: string, c: Colours): string {
  if (!c.enabled) return text;
  return text
    .split('\n')
    .map((l) => (/^\s+FAIL /.test(l) || /outputs? disagree$/.test(l) ? c.error(l) : /^\s+PASS /.test(l) ? c.ok(l) : l))
    .join('\n');
}

/** Removes SGR colour codes (for width computations and tests). */
export function stripColour(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Rendering: aligned tables for people, exactly one JSON document for machines (--json). */

export interface Sink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface OutputOptions {
  json: boolean;
}

export class Output {
  constructor(
    readonly opts: OutputOptions,
    private readonly deps: { stdout: Sink; stderr: Sink } = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  get json(): boolean {
    return this.opts.json;
  }

  /** The command's result: `json` with --json, else the text `human()` renders. Call once. */
  result(json: unknown, human: () => string): void {
    this.deps.stdout.write(this.opts.json ? toJson(json) + '\n' : withNewline(human()));
  }

  /** Text for people that is not the result (summaries, hints): stdout, or stderr under --json. */
  note(text: string): void {
    (this.opts.json ? this.deps.stderr : this.deps.stdout).write(withNewline(text));
  }

  /** Progress for people on a terminal; nothing when stderr is not one. */
  spinner(text: string): Spinner {
    return new Spinner(this.deps.stderr, text);
  }
}

/** The "Examples:" block of a command's --help. */
export const examples = (lines: readonly string[]): string => `\nExamples:\n${lines.map((l) => `  $ metanode-cli ${l}`).join('\n')}\n`;

const withNewline = (s: string): string => (s === '' || s.endsWith('\n') ? s : s + '\n');

/** JSON with bigints as decimal strings and bytes as 0x-hex, as every Metanode interface does. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString(10);
      if (v instanceof Uint8Array) return '0x' + Buffer.from(v).toString('hex');
      return v;
    },
    2,
  );
}

/** Two columns, keys padded: `chain id   metanode-dev`. Rows with an undefined value are left out. */
export function kvTable(rows: ReadonlyArray<readonly [string, string | undefined]>): string {
  const kept = rows.filter((r): r is readonly [string, string] => r[1] !== undefined);
  const w = Math.max(0, ...kept.map(([k]) => k.length));
  return kept.map(([k, v]) => `${k.padEnd(w)}  ${v}`.trimEnd()).join('\n');
}

/** A grid with a header row; columns marked 'r' are right-aligned, 'd' aligns decimal points. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r' | 'd')[] = []): string {
  const cols = headers.map((_, i) => {
    const cells = rows.map((r) => r[i] ?? '');
    return align[i] === 'd' ? alignDecimals(cells) : cells;
  });
  const widths = headers.map((h, i) => Math.max(h.length, ...cols[i]!.map((c) => c.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (align[i] === 'r' || align[i] === 'd' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map((_, r) => line(cols.map((c) => c[r]!)))].join('\n');
}

/** Pads numbers on the right so that, once right-aligned, their decimal points line up. */
export function alignDecimals(values: readonly string[]): string[] {
  const frac = (v: string): number => (v.includes('.') ? v.length - v.indexOf('.') : 0);
  const w = Math.max(0, ...values.map(frac));
  return values.map((v) => v + ' '.repeat(w - frac(v)));
}

/** A value from a node answer as a table cell. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return JSON.stringify(v);
}

/** "2025-01-02 03:04:05Z (12s ago)" from milliseconds since the epoch. */
export function formatTime(ms: number, now = Date.now()): string {
  const iso = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const s = Math.round((now - ms) / 1000);
  const ago = s < 0 ? 'in the future' : s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
  return `${iso} (${ago})`;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Spinner {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;

  constructor(
    private readonly sink: Sink,
    private text: string,
  ) {
    if (!sink.isTTY) return;
    this.timer = setInterval(() => this.draw(), 80);
    this.draw();
  }

  update(text: string): void {
    this.text = text;
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sink.write('\r\x1b[2K');
  }

  private draw(): void {
    this.sink.write(`\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`);
  }
}

/**
 * Output for humans by default and for scripts with --json: with --json,
 * stdout carries exactly one JSON document and progress goes to stderr, so
 * `tep status --json | jq` always parses.
 */

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Present only when a human is at the terminal (stdin is a TTY). */
  confirm?(question: string): Promise<boolean>;
}

export type Status = 'passed' | 'failed' | 'manual' | 'skipped' | 'warning';

export const ICON: Record<Status, string> = {
  passed: '✅',
  failed: '❌',
  manual: '📝',
  skipped: '⏭️ ',
  warning: '⚠️ ',
};

export class Reporter {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  /** Result text for humans; with --json the document carries it instead. */
  print(text = ''): void {
    if (!this.json) this.io.stdout(`${text}\n`);
  }

  /** Progress, shown in both modes without ever breaking the JSON on stdout. */
  progress(text = ''): void {
    if (this.json) this.io.stderr(`${text}\n`);
    else this.io.stdout(`${text}\n`);
  }

  step(number: number, total: number, title: string): void {
    this.progress(`\n[${number}/${total}] ${title}`);
  }

  check(status: Status, name: string, detail?: string): void {
    this.progress(`  ${ICON[status]} ${name}${detail ? ` — ${detail}` : ''}`);
  }

  warn(text: string): void {
    this.progress(`${ICON.warning} ${text}`);
  }

  error(text: string): void {
    this.io.stderr(`${ICON.failed} ${text}\n`);
  }

  /** The one JSON document of a --json run. */
  document(doc: unknown): void {
    if (this.json) this.io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  }

  /** A human can answer (the question goes to the terminal, so --json output stays clean). */
  get interactive(): boolean {
    return this.io.confirm !== undefined;
  }

  async confirm(question: string): Promise<boolean> {
    return this.interactive ? this.io.confirm!(question) : false;
  }
}

/** A plain-text table with aligned columns (values may not contain newlines). */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/** An Io that collects everything, for specs and in-process callers. */
export function memoryIo(options: { confirm?: (question: string) => Promise<boolean> } = {}): Io & {
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    confirm: options.confirm,
    out: () => out,
    err: () => err,
  };
}

/**
 * PgBouncer's configuration for the deploy checks: pgbouncer.ini read the way
 * PgBouncer reads it, and started with a local pgbouncer binary when one is
 * installed (Debian's package: `bash tools/dev/ensure-tools.sh`).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tep/service-process';
import { spawnPgBouncer } from '@tep/testing';

export interface PgBouncerIni {
  /** The [pgbouncer] section: setting → value, as written. */
  settings: Record<string, string>;
  /** The [databases] section: name → connection string. */
  databases: Record<string, string>;
  /** `%include` directives, in order. */
  includes: string[];
}

/**
 * Parses an ini file as PgBouncer does: `;` and `#` start comment lines,
 * `%include <path>` includes a file, `[section]`, `key = value`. A setting
 * written twice is an error here (PgBouncer would take the last silently).
 */
export function parsePgBouncerIni(text: string, source = 'pgbouncer.ini'): PgBouncerIni {
  const ini: PgBouncerIni = { settings: {}, databases: {}, includes: [] };
  let section: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) return;
    const where = `${source}:${index + 1}`;
    const include = /^%include\s+(\S+)$/.exec(line);
    if (include) {
      ini.includes.push(include[1]);
      return;
    }
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1];
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${where}: not key = value: ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const target =
      section === 'pgbouncer' ? ini.settings : section === 'databases' ? ini.databases : undefined;
    if (!target) throw new Error(`${where}: ${key} outside [pgbouncer] and [databases]`);
    if (key in target) throw new Error(`${where}: ${key} set twice`);
    target[key] = value;
  });
  return ini;
}

/** `host=db port=5432 dbname=x` → { host: 'db', port: '5432', dbname: 'x' }. */
export function parseConnectString(connect: string): Record<string, string> {
  return Object.fromEntries(
    connect
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new Error(`not key=value: ${pair}`);
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
  );
}

/** `"name" "password"` lines of an auth_file → the names. */
export function userlistNames(userlist: string): string[] {
  return userlist
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith(';'))
    .map((line) => {
      const m = /^"([^"]+)"\s+"[^"]*"$/.exec(line);
      if (!m) throw new Error(`not a userlist line: ${line}`);
      return m[1];
    });
}

/** [major, minor] of `pgbouncer --version` ("PgBouncer 1.18.0"). */
export function pgBouncerVersion(binary: string): [number, number] {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout;
  const m = /PgBouncer (\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the version of ${binary}: ${out}`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * Writes `files` into a scratch directory, `ini` (given that directory) as
 * pgbouncer.ini listening on a free port of 127.0.0.1, starts `binary` on it
 * and runs `use` once it listens. Throws with PgBouncer's log if it exits.
 */
export async function withPgBouncer<T>(
  binary: string,
  files: Record<string, string>,
  ini: (dir: string, port: number) => string,
  use: (port: number) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tep-pgbouncer-'));
  chmodSync(dir, 0o755);
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const port = await freePort();
    writeFileSync(join(dir, 'pgbouncer.ini'), ini(dir, port));
    const pgbouncer = await spawnPgBouncer(join(dir, 'pgbouncer.ini'), port, binary);
    try {
      return await use(port);
    } finally {
      await pgbouncer.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

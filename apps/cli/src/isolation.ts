/**
 * The runbook's tenant-isolation-validation.sh as code. As the application
 * role, inside ONE transaction that is always rolled back, it writes rows
 * for two synthetic tenants into every tenant table and proves that each
 * tenant reads only its own rows, that no tenant context reads nothing, and
 * that cross-tenant reads, updates and deletes touch nothing while
 * cross-tenant inserts and moves are refused by row-level security. Rows are
 * synthesised from the catalogue, so a table added to TENANT_TABLES is
 * covered without changing this file.
 */
import { randomUUID } from 'node:crypto';
import { escapeIdentifier, type Client } from 'pg';
import { TENANT_TABLES } from '@tep/data';
import { withPg } from './db';
import { UsageError, errorMessage } from './errors';

export interface IsolationLine {
  ok: boolean;
  text: string;
}

export interface IsolationResult {
  ok: boolean;
  tenants: { a: string; b: string };
  lines: IsolationLine[];
  records: { a: number; b: number };
  /** Rows of the synthetic tenants found after the rollback (must be 0). */
  leftover_rows: number;
}

interface Column {
  name: string;
  typname: string;
  required: boolean;
  /** The first value a `CHECK (column IN (...))` allows, when it has one. */
  allowed?: string;
}

interface TablePlan {
  table: string;
  columns: Column[];
  /** 1 where tenant_id alone is unique (tenant_configs), else 2 for A and 1 for B. */
  rowsA: number;
  rowsB: number;
}

const RLS_ERROR = /row-level security/i;

async function planTable(client: Client, table: string): Promise<TablePlan> {
  const { rows } = await client.query<{
    name: string;
    typname: string;
    attnotnull: boolean;
    atthasdef: boolean;
    attidentity: string;
    attgenerated: string;
  }>(
    `SELECT a.attname AS name, t.typname, a.attnotnull, a.atthasdef, a.attidentity, a.attgenerated
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table],
  );
  if (rows.length === 0) throw new Error(`table ${table} does not exist`);
  if (!rows.some((r) => r.name === 'tenant_id')) throw new Error(`table ${table} has no tenant_id`);
  const unique = await client.query<{ tenant_unique: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_index i JOIN pg_attribute a
         ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND a.attname = 'tenant_id'
        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnatts = 1) AS tenant_unique`,
    [table],
  );
  const checks = await client.query<{ def: string }>(
    `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = to_regclass($1) AND contype = 'c'`,
    [table],
  );
  const allowedOf = (column: string) => {
    for (const { def } of checks.rows) {
      const m = new RegExp(`\\(${column} = ANY \\(ARRAY\\['([^']*)'`).exec(def);
      if (m) return m[1];
    }
    return undefined;
  };
  return {
    table,
    columns: rows.map((r) => ({
      name: r.name,
      typname: r.typname,
      allowed: allowedOf(r.name),
      required:
        r.name !== 'tenant_id' &&
        r.attnotnull &&
        !r.atthasdef &&
        r.attidentity === '' &&
        r.attgenerated === '',
    })),
    rowsA: unique.rows[0].tenant_unique ? 1 : 2,
    rowsB: 1,
  };
}

let counter = 0;
function syntheticValue(table: string, column: Column): unknown {
  counter += 1;
  if (column.allowed !== undefined) return column.allowed;
  switch (column.typname) {
    case 'uuid':
      return randomUUID();
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
      return `tep-isolation-${table}-${counter}`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
      return counter;
    case 'bool':
      return false;
    case 'json':
    case 'jsonb':
      return '{}';
    case 'timestamptz':
    case 'timestamp':
    case 'date':
      return new Date().toISOString();
    case 'inet':
    case 'cidr':
      return `10.254.${Math.floor(counter / 250) % 250}.${(counter % 250) + 1}`;
    default:
      throw new Error(
        `cannot synthesise a value for ${table}.${column.name} (${column.typname}); extend syntheticValue`,
      );
  }
}

function insertSql(plan: TablePlan, tenantId: string): { sql: string; values: unknown[] } {
  const required = plan.columns.filter((c) => c.required);
  const names = ['tenant_id', ...required.map((c) => c.name)].map(escapeIdentifier);
  const values = [tenantId, ...required.map((c) => syntheticValue(plan.table, c))];
  return {
    sql: `INSERT INTO ${escapeIdentifier(plan.table)} (${names.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
    values,
  };
}

async function setTenant(client: Client, tenantId: string): Promise<void> {
  // '' is what the setting reads after a transaction-local value ends: "no tenant".
  await client.query(`SELECT set_config('app.current_tenant_id', $1, true)`, [tenantId]);
}

/** Runs `sql` and returns the RLS error message it was refused with, or undefined if it succeeded. */
async function refusal(
  client: Client,
  sql: string,
  values: unknown[],
): Promise<string | undefined> {
  await client.query('SAVEPOINT tep_probe');
  try {
    await client.query(sql, values);
    await client.query('RELEASE SAVEPOINT tep_probe');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT tep_probe');
    return errorMessage(error);
  }
}

async function probeTable(
  client: Client,
  plan: TablePlan,
  a: string,
  b: string,
  line: (ok: boolean, text: string) => void,
): Promise<{ a: number; b: number }> {
  const t = escapeIdentifier(plan.table);
  const own = async (tenant: string, label: string, expected: number) => {
    await setTenant(client, tenant);
    const { rows } = await client.query<{ tenant_id: string }>(`SELECT tenant_id::text FROM ${t}`);
    const foreign = rows.filter((r) => r.tenant_id !== tenant).length;
    line(
      rows.length === expected && foreign === 0,
      foreign === 0
        ? `${plan.table}: Tenant ${label} query returned ${rows.length} records (all tenant_id = ${label}${rows.length === expected ? '' : `; expected ${expected}`})`
        : `${plan.table}: Tenant ${label} query returned ${rows.length} records, ${foreign} of ANOTHER tenant — LEAK`,
    );
    return rows.length;
  };
  const countA = await own(a, 'A', plan.rowsA);
  const countB = await own(b, 'B', plan.rowsB);

  await setTenant(client, '');
  const none = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`);
  line(none.rows[0].n === 0, `${plan.table}: no tenant context → ${none.rows[0].n} rows`);

  await setTenant(client, a);
  const read = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${t} WHERE tenant_id = $1`,
    [b],
  );
  const update = await client.query(`UPDATE ${t} SET tenant_id = tenant_id WHERE tenant_id = $1`, [
    b,
  ]);
  const del = await client.query(`DELETE FROM ${t} WHERE tenant_id = $1`, [b]);
  line(
    read.rows[0].n === 0 && update.rowCount === 0 && del.rowCount === 0,
    `${plan.table}: as Tenant A, reading/updating/deleting Tenant B's rows affected ${read.rows[0].n}/${update.rowCount ?? 0}/${del.rowCount ?? 0} rows`,
  );

  const crossInsert = insertSql(plan, b);
  const insertError = await refusal(client, crossInsert.sql, crossInsert.values);
  line(
    insertError !== undefined && RLS_ERROR.test(insertError),
    insertError === undefined
      ? `${plan.table}: as Tenant A, inserting a row for Tenant B SUCCEEDED — LEAK`
      : `${plan.table}: as Tenant A, inserting a row for Tenant B refused (${insertError})`,
  );
  const moveError = await refusal(client, `UPDATE ${t} SET tenant_id = $1 WHERE tenant_id = $2`, [
    b,
    a,
  ]);
  line(
    moveError !== undefined && RLS_ERROR.test(moveError),
    moveError === undefined
      ? `${plan.table}: as Tenant A, moving its rows to Tenant B SUCCEEDED — LEAK`
      : `${plan.table}: as Tenant A, moving its rows to Tenant B refused (${moveError})`,
  );

  await setTenant(client, b);
  const still = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`);
  line(
    still.rows[0].n === plan.rowsB,
    `${plan.table}: Tenant B still has its ${still.rows[0].n} of ${plan.rowsB} records after Tenant A's attempts`,
  );
  return { a: countA, b: countB };
}

async function leftoverRows(
  client: Client,
  tables: readonly string[],
  tenants: string[],
): Promise<number> {
  let total = 0;
  for (const tenant of tenants) {
    await client.query('BEGIN TRANSACTION READ ONLY');
    try {
      await setTenant(client, tenant);
      for (const table of tables) {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${escapeIdentifier(table)}`,
        );
        total += rows[0].n;
      }
    } finally {
      await client.query('ROLLBACK');
    }
  }
  return total;
}

/**
 * Tables the application role may not write (their only writer is the
 * registry): their isolation is checked as the registry's role, which RLS
 * confines the same way without its per-transaction admin opt-in.
 */
export const REGISTRY_WRITTEN_TABLES: ReadonlySet<string> = new Set(['tenant_configs']);

export async function runIsolationCheck(
  urls: { databaseUrl: string; registryDatabaseUrl: string },
  tables: readonly string[] = TENANT_TABLES,
): Promise<IsolationResult> {
  return withPg(urls.databaseUrl, (client) =>
    withPg(urls.registryDatabaseUrl, (registry) => isolationCheck(client, registry, tables)),
  );
}

async function assertConfined(client: Client, variable: string): Promise<void> {
  const role = await client.query<{ role: string; bypass: boolean }>(
    `SELECT current_user AS role, rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`,
  );
  if (role.rows[0]?.bypass) {
    throw new UsageError(
      `${role.rows[0].role} bypasses row-level security, so isolation cannot be tested with it: set ${variable} to a service role`,
    );
  }
}

async function isolationCheck(
  client: Client,
  registry: Client,
  tables: readonly string[],
): Promise<IsolationResult> {
  await assertConfined(client, 'DATABASE_URL');
  await assertConfined(registry, 'DATABASE_REGISTRY_URL');
  const clientFor = (table: string) => (REGISTRY_WRITTEN_TABLES.has(table) ? registry : client);
  const a = randomUUID();
  const b = randomUUID();
  const lines: IsolationLine[] = [];
  const line = (ok: boolean, text: string) => lines.push({ ok, text });
  const records = { a: 0, b: 0 };
  await client.query('BEGIN');
  await registry.query('BEGIN');
  try {
    const plans: TablePlan[] = [];
    for (const table of tables) plans.push(await planTable(client, table));
    for (const plan of plans) {
      const writer = clientFor(plan.table);
      for (const [tenant, n] of [
        [a, plan.rowsA],
        [b, plan.rowsB],
      ] as const) {
        await setTenant(writer, tenant);
        for (let i = 0; i < n; i += 1) {
          const { sql, values } = insertSql(plan, tenant);
          await writer.query(sql, values);
        }
      }
    }
    for (const plan of plans) {
      const counts = await probeTable(clientFor(plan.table), plan, a, b, line);
      records.a += counts.a;
      records.b += counts.b;
    }
  } catch (error) {
    line(false, `isolation check could not run: ${errorMessage(error)}`);
  } finally {
    // Always: nothing this check wrote may survive it.
    await client.query('ROLLBACK');
    await registry.query('ROLLBACK');
  }
  const leftover = await leftoverRows(client, tables, [a, b]);
  const clean = lines.every((l) => l.ok);
  lines.push(
    { ok: clean, text: `Tenant A query returned ${records.a} records (all tenant_id = A)` },
    { ok: clean, text: `Tenant B query returned ${records.b} records (all tenant_id = B)` },
    {
      ok: clean,
      text: clean ? 'No cross-tenant data leakage detected' : 'Cross-tenant data leakage DETECTED',
    },
    {
      ok: leftover === 0,
      text: `Rolled back: ${leftover} rows of the synthetic tenants remain`,
    },
  );
  const ok = clean && leftover === 0;
  lines.push({
    ok,
    text: ok ? 'RLS isolation verified successfully' : 'RLS isolation check FAILED',
  });
  return { ok, tenants: { a, b }, lines, records, leftover_rows: leftover };
}

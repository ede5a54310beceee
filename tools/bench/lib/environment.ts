/**
 * What every part shares: a dedicated database (provisioned like
 * `db:migrate` does, under its own name), a dedicated NATS namespace and the
 * clean-up of both, and a description of the machine for the report.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client, escapeIdentifier } from 'pg';
import { PLATFORM_DEFAULTS } from '@tep/config';
import { createTopology, type Topology } from '@tep/contracts';
import { provisionDatabase, withDatabase } from '@tep/data';
import { deleteNamespaceStreams } from '@tep/testing';

export const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? PLATFORM_DEFAULTS.databaseAdminUrl;
export const NATS_URL = process.env.BENCH_NATS_URL ?? PLATFORM_DEFAULTS.natsUrl;

export interface BenchDatabase {
  name: string;
  /** tep_app: the services' role, RLS applies. */
  appUrl: string;
  registryUrl: string;
  /** tep_poster: the application role plus the SDP credential column. */
  posterUrl: string;
  /** Superuser in this database, for fixtures only. */
  adminUrl: string;
  drop(): Promise<void>;
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await admin.end();
  }
}

/**
 * Creates (or, with `fresh`, re-creates) a database with the platform's
 * roles and migrations, as `npm run db:migrate` does for `ai_agents`.
 */
export async function benchDatabase(name: string, fresh = true): Promise<BenchDatabase> {
  if (fresh) await dropDatabase(name);
  const urls = {
    ownerUrl: withDatabase(PLATFORM_DEFAULTS.databaseOwnerUrl, name),
    applicationUrl: withDatabase(PLATFORM_DEFAULTS.databaseUrl, name),
    registryUrl: withDatabase(PLATFORM_DEFAULTS.databaseRegistryUrl, name),
    posterUrl: withDatabase(PLATFORM_DEFAULTS.databasePosterUrl, name),
  };
  await provisionDatabase({ adminUrl: ADMIN_URL, ...urls });
  return {
    name,
    appUrl: urls.applicationUrl,
    registryUrl: urls.registryUrl,
    posterUrl: urls.posterUrl,
    adminUrl: withDatabase(ADMIN_URL, name),
    drop: () => dropDatabase(name),
  };
}

export interface BenchNats {
  nc: NatsConnection;
  namespace: string;
  topology: Topology;
  /** Deletes every stream (and KV bucket) of this namespace. */
  cleanup(): Promise<void>;
}

export async function benchNats(label: string): Promise<BenchNats> {
  const namespace = `bench_${label}_${randomBytes(3).toString('hex')}`;
  const nc = await connect({ servers: NATS_URL, name: `bench-${label}` });
  return {
    nc,
    namespace,
    topology: createTopology(namespace),
    async cleanup() {
      await deleteNamespaceStreams(nc, namespace);
      await nc.drain();
    },
  };
}

/**
 * Leftovers of an interrupted run: streams of a `bench_…` namespace created
 * more than an hour ago (a run takes minutes, so a concurrent run's are spared).
 */
export async function deleteStaleBenchStreams(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (!/^(KV_)?bench_[a-z]+_[0-9a-f]{6}_/.test(name)) continue;
    const info = await jsm.streams.info(name).catch(() => undefined);
    if (info && Date.now() - new Date(info.created).getTime() > 3_600_000) names.push(name);
  }
  for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  return names;
}

/**
 * The pid of the nats-server we talk to (for CPU accounting): the process
 * named `nats-server` that owns the socket listening on NATS_URL's port —
 * other engineers may run more NATS servers on this machine.
 */
export function natsServerPid(): number | undefined {
  const port = Number(new URL(NATS_URL.split(',')[0]).port || 4222);
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is ADDR:PORT in hex; state 0A is LISTEN.
        if (cols[1]?.endsWith(`:${portHex}`) && cols[3] === '0A') inodes.add(cols[9]);
      }
    } catch {
      // no IPv6 table
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'nats-server') continue;
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(entry);
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  nats: string;
  loadAverageAtStart: string;
}

export async function machineInfo(nc: NatsConnection): Promise<MachineInfo> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  let postgres = 'unknown';
  try {
    postgres = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]
      .server_version;
  } finally {
    await admin.end();
  }
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    date: new Date().toISOString(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    nats: nc.info?.version ?? 'unknown',
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

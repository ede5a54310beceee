/**
 * NATS JetStream for `tep`: reachability, queue depth per consumer, the
 * tenant directory entry, the dead-letter stream (list, replay, purge) and
 * the shared Zoho access-token store.
 * Names come from @tep/contracts' topology, so a namespace (tests,
 * side-by-side deployments) is honoured everywhere.
 */
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  DeadLetterSchema,
  TenantDirectoryEntrySchema,
  createTopology,
  type DeadLetter,
  type TenantDirectoryEntry,
  type Topology,
} from '@tep/contracts';
import { HEADER, natsConnectionOptions } from '@tep/pipeline';
import type { SecretCipher } from '@tep/encryption';
import { connectAccessTokenStore, type AccessTokenStore } from '@tep/servicedesk-client';
import { CheckFailedError, UnreachableError, UsageError, errorMessage } from './errors';

const CONNECT_TIMEOUT_MS = 3_000;
const FETCH_EXPIRES_MS = 3_000;

/** Where NATS is and, in production, the operators' user and TLS trust (CliConfig). */
export interface CliNatsOptions {
  natsUrl: string;
  natsNamespace: string;
  natsUser?: string;
  natsPassword?: string;
  natsTlsCaFile?: string;
}

const connectionOptions = (options: CliNatsOptions, name: string) =>
  natsConnectionOptions(
    {
      url: options.natsUrl,
      user: options.natsUser,
      password: options.natsPassword,
      tlsCaFile: options.natsTlsCaFile,
    },
    name,
  );

export interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
}

/** Connects once (no reconnect loop: a CLI should fail fast) and checks JetStream answers. */
export async function withNats<T>(
  options: CliNatsOptions,
  work: (nats: Nats) => Promise<T>,
): Promise<T> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...connectionOptions(options, 'tep-cli'),
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: false,
    });
  } catch (error) {
    throw new UnreachableError(`NATS unreachable at ${options.natsUrl}: ${errorMessage(error)}`);
  }
  try {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: CONNECT_TIMEOUT_MS });
    } catch (error) {
      throw new CheckFailedError(
        `NATS at ${options.natsUrl} has no JetStream: ${errorMessage(error)}`,
      );
    }
    return await work({
      nc,
      jsm,
      js: jetstream(nc, { timeout: CONNECT_TIMEOUT_MS }),
      topology: createTopology(options.natsNamespace),
    });
  } finally {
    await nc.close().catch(() => undefined);
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test(errorMessage(error));
}

export async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export interface ConsumerDepth {
  consumer: string;
  /** Stored messages this consumer has not been given yet (JetStream num_pending). */
  num_pending: number;
  /** Delivered and not yet acknowledged (being worked on or awaiting redelivery). */
  num_ack_pending: number;
  num_redelivered: number;
}

/** Queue depth: JetStream's num_pending per consumer of the TICKETS stream. */
export async function queueDepth(nats: Nats): Promise<ConsumerDepth[]> {
  const depths: ConsumerDepth[] = [];
  for await (const info of nats.jsm.consumers.list(nats.topology.ticketsStream)) {
    depths.push({
      consumer: info.name,
      num_pending: info.num_pending,
      num_ack_pending: info.num_ack_pending,
      num_redelivered: info.num_redelivered,
    });
  }
  return depths.sort((a, b) => a.consumer.localeCompare(b.consumer));
}

/** `<ns.>tickets.dead.<stage|*>.<tenant|*>` */
export function deadLetterFilter(
  topology: Topology,
  filter: { tenantId?: string; stage?: string } = {},
): string {
  const prefix = topology.namespace ? `${topology.namespace}.` : '';
  for (const part of [filter.tenantId, filter.stage]) {
    if (part !== undefined && !/^[A-Za-z0-9_-]+$/.test(part)) {
      throw new UsageError(`"${part}" cannot be part of a NATS subject`);
    }
  }
  return `${prefix}tickets.dead.${filter.stage ?? '*'}.${filter.tenantId ?? '*'}`;
}

/** Messages per subject matching `filter` in `stream` (0 when the stream is missing). */
export async function countBySubject(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
): Promise<Record<string, number>> {
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
    return info.state.subjects ?? {};
  } catch (error) {
    if (isNotFound(error)) return {};
    throw error;
  }
}

export interface StoredDeadLetter extends DeadLetter {
  /** Sequence in the dead-letter stream: what `replay` takes. */
  sequence: number;
  subject: string;
}

export async function listDeadLetters(
  nats: Nats,
  filter: { tenantId?: string; stage?: string } = {},
): Promise<StoredDeadLetter[]> {
  const subject = deadLetterFilter(nats.topology, filter);
  const counts = await countBySubject(nats.jsm, nats.topology.deadLetterStream, subject);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  // An ordered consumer reads the stream without changing it (no acks, no durable left behind).
  // One subject as a string: the client then sends filter_subject, which servers before 2.10 know.
  const consumer = await nats.js.consumers.get(nats.topology.deadLetterStream, {
    filter_subjects: subject,
  });
  const letters: StoredDeadLetter[] = [];
  const messages = await consumer.fetch({ max_messages: total, expires: FETCH_EXPIRES_MS });
  for await (const m of messages) {
    const parsed = DeadLetterSchema.safeParse(safeJson(m.string()));
    if (parsed.success) letters.push({ ...parsed.data, sequence: m.seq, subject: m.subject });
    if (m.info.pending === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  return letters.sort((a, b) => a.sequence - b.sequence);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function getDeadLetter(nats: Nats, sequence: number): Promise<StoredDeadLetter> {
  let stored;
  try {
    stored = await nats.jsm.streams.getMessage(nats.topology.deadLetterStream, { seq: sequence });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    stored = null;
  }
  if (!stored) {
    throw new CheckFailedError(
      `no dead letter with sequence ${sequence} in ${nats.topology.deadLetterStream}`,
    );
  }
  const parsed = DeadLetterSchema.safeParse(safeJson(stored.string()));
  if (!parsed.success) {
    throw new CheckFailedError(
      `message ${sequence} in the dead-letter stream is not a dead letter`,
    );
  }
  return { ...parsed.data, sequence, subject: stored.subject };
}

export interface ReplayResult {
  sequence: number;
  job_id: string;
  tenant_id: string;
  stage: string;
  republished_to: string;
  /** The new Nats-Msg-Id: new so the tickets stream does not drop it as a duplicate. */
  msg_id: string;
  stream_sequence: number;
}

/**
 * Republishes a dead letter's original payload to its original subject
 * (headers Tep-Tenant-Id / Tep-Job-Id, a new Nats-Msg-Id), and only after
 * JetStream stored it deletes the dead letter — a crash in between leaves
 * the dead letter in place, never loses it.
 */
export async function replayDeadLetter(
  nats: Nats,
  letter: StoredDeadLetter,
): Promise<ReplayResult> {
  const prefix = nats.topology.namespace ? `${nats.topology.namespace}.` : '';
  const stageSubject = new RegExp(
    `^${prefix.replace(/\./g, '\\.')}tickets\\.(received|contextualized|enhanced)\\.[A-Za-z0-9-]+$`,
  );
  // Only ever back into a pipeline stage of this namespace, never elsewhere.
  if (!stageSubject.test(letter.original_subject)) {
    throw new CheckFailedError(
      `dead letter ${letter.sequence} names original subject "${letter.original_subject}", which is not a pipeline stage subject here; not replayed`,
    );
  }
  const hdrs = natsHeaders();
  hdrs.set(HEADER.tenantId, letter.tenant_id);
  hdrs.set(HEADER.jobId, letter.job_id);
  const msgId = `replay:${letter.job_id}:${letter.sequence}`;
  const ack = await nats.js.publish(letter.original_subject, letter.original_payload, {
    msgID: msgId,
    headers: hdrs,
  });
  await nats.jsm.streams.deleteMessage(nats.topology.deadLetterStream, letter.sequence);
  return {
    sequence: letter.sequence,
    job_id: letter.job_id,
    tenant_id: letter.tenant_id,
    stage: letter.stage,
    republished_to: letter.original_subject,
    msg_id: msgId,
    stream_sequence: ack.seq,
  };
}

/**
 * Removes a tenant's messages from the tickets and dead-letter streams (the
 * runbook's "clear the queue" rollback step, scoped to one tenant).
 */
export async function purgeTenantMessages(
  nats: Nats,
  tenantId: string,
): Promise<{ tickets: number; dead_letters: number }> {
  if (!/^[A-Za-z0-9-]+$/.test(tenantId)) throw new UsageError(`"${tenantId}" is not a tenant id`);
  const prefix = nats.topology.namespace ? `${nats.topology.namespace}.` : '';
  const purge = async (stream: string, filter: string) => {
    try {
      return (await nats.jsm.streams.purge(stream, { filter })).purged;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
  };
  return {
    tickets: await purge(nats.topology.ticketsStream, `${prefix}tickets.*.${tenantId}`),
    dead_letters: await purge(
      nats.topology.deadLetterStream,
      `${prefix}tickets.dead.*.${tenantId}`,
    ),
  };
}

/** The ingress's view of the tenant (the registry publishes it); undefined when absent. */
export async function directoryEntry(
  nats: Nats,
  tenantId: string,
): Promise<TenantDirectoryEntry | undefined> {
  if (!(await streamExists(nats.jsm, `KV_${nats.topology.tenantDirectoryBucket}`)))
    return undefined;
  const kv = await new Kvm(nats.nc).open(nats.topology.tenantDirectoryBucket);
  const entry = await kv.get(tenantId);
  if (!entry || entry.operation !== 'PUT') return undefined;
  const parsed = TenantDirectoryEntrySchema.safeParse(safeJson(entry.string()));
  return parsed.success ? parsed.data : undefined;
}

export interface SharedTokenStore {
  store: AccessTokenStore;
  /** The bucket, e.g. `sdp_oauth_tokens` (namespaced like every other name). */
  bucket: string;
  close(): Promise<void>;
}

/**
 * The platform's shared, encrypted cache of SDP Cloud access tokens — the
 * one every poster replica and the back-fill use — over a connection of
 * its own that stays open until `close`. With it, `tep` takes the tenant's
 * current token instead of minting another (Zoho allows ten per refresh
 * token per ten minutes). `cipher` must hold the platform's
 * SERVICEDESK_CREDENTIAL_KEY, or the services cannot read what `tep` writes.
 */
export async function openSharedTokenStore(
  options: CliNatsOptions,
  cipher: SecretCipher,
): Promise<SharedTokenStore> {
  const bucket = createTopology(options.natsNamespace).oauthTokenBucket;
  try {
    const { store, close } = await connectAccessTokenStore({
      connection: connectionOptions(options, 'tep-cli-tokens'),
      bucket,
      cipher,
      timeoutMs: CONNECT_TIMEOUT_MS,
    });
    return { store, bucket, close };
  } catch (error) {
    throw new UnreachableError(
      `token bucket ${bucket} unavailable at ${options.natsUrl}: ${errorMessage(error)}`,
    );
  }
}

/** The shared store, or undefined (and `warn` told why) when NATS cannot be used. */
export async function sharedTokenStoreOrWarn(
  options: CliNatsOptions,
  cipher: SecretCipher,
  warn: (detail: string) => void,
): Promise<SharedTokenStore | undefined> {
  try {
    return await openSharedTokenStore(options, cipher);
  } catch (error) {
    warn(
      `not used (${errorMessage(error)}): minting a private Zoho access token, one of the 10 Zoho allows per refresh token per 10 minutes`,
    );
    return undefined;
  }
}

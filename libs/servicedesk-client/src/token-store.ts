import { createHash, randomUUID } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { SecretCipher } from '@tep/encryption';

/** An access token as every process sees it. */
export interface SharedAccessToken {
  token: string;
  /** When to stop using it (shortly before Zoho's expiry), epoch ms. */
  refreshAt: number;
  /** The API origin the token reply named (`api_domain`), if any. */
  apiDomain?: string;
}

/** Zoho refused to mint: nobody should ask again before this time. */
export interface MintBlock {
  blockedUntil: number;
}

export type SharedTokenEntry = SharedAccessToken | MintBlock;

/**
 * Where the access tokens of every poster replica, the back-fill and `tep`
 * meet, so a tenant's token is minted once per hour, not once per job
 * (Zoho allows ten per refresh token per ten minutes). `lease` lets exactly
 * one process mint at a time; the others wait for its result.
 */
export interface AccessTokenStore {
  read(key: string): Promise<SharedTokenEntry | undefined>;
  write(key: string, entry: SharedTokenEntry): Promise<void>;
  /** Forgets the token only if it is still this one (another may have replaced it). */
  forget(key: string, token: string): Promise<void>;
  /** A lease to mint for `key`, or undefined when another process holds one. */
  lease(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

/** The store key for one OAuth credential: a new refresh token starts afresh. */
export function tokenStoreKey(parts: {
  accountsUrl: string;
  clientId: string;
  refreshToken: string;
}): string {
  return createHash('sha256')
    .update(`${parts.accountsUrl}\n${parts.clientId}\n${parts.refreshToken}`)
    .digest('hex')
    .slice(0, 40);
}

/** One process only (tests, one-off commands without NATS). */
export class MemoryAccessTokenStore implements AccessTokenStore {
  private readonly entries = new Map<string, SharedTokenEntry>();
  private readonly leases = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  read(key: string): Promise<SharedTokenEntry | undefined> {
    return Promise.resolve(this.entries.get(key));
  }
  write(key: string, entry: SharedTokenEntry): Promise<void> {
    this.entries.set(key, entry);
    return Promise.resolve();
  }
  forget(key: string, token: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && 'token' in entry && entry.token === token) this.entries.delete(key);
    return Promise.resolve();
  }
  lease(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const until = this.leases.get(key);
    if (until !== undefined && until > this.now()) return Promise.resolve(undefined);
    this.leases.set(key, this.now() + ttlMs);
    return Promise.resolve(() => {
      this.leases.delete(key);
      return Promise.resolve();
    });
  }
}

interface LeaseValue {
  holder: string;
  until: number;
}

/**
 * The shared store in a NATS KV bucket. Tokens are encrypted like every
 * other secret (only holders of the SDP credential key can read them);
 * leases use the bucket's compare-and-set, and a lease whose holder died is
 * taken over once it has run out.
 */
export class KvAccessTokenStore implements AccessTokenStore {
  constructor(
    private readonly kv: KV,
    private readonly cipher: SecretCipher,
    private readonly now: () => number = Date.now,
  ) {}

  async read(key: string): Promise<SharedTokenEntry | undefined> {
    const entry = await this.kv.get(`token.${key}`);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    try {
      return JSON.parse(this.cipher.decrypt(entry.string())) as SharedTokenEntry;
    } catch {
      // Written under a key we no longer hold, or damaged: mint afresh.
      return undefined;
    }
  }

  async write(key: string, entry: SharedTokenEntry): Promise<void> {
    await this.kv.put(`token.${key}`, this.cipher.encrypt(JSON.stringify(entry)));
  }

  async forget(key: string, token: string): Promise<void> {
    const entry = await this.kv.get(`token.${key}`);
    if (!entry || entry.operation !== 'PUT') return;
    const current = await this.read(key);
    if (current && 'token' in current && current.token === token) {
      await this.kv.delete(`token.${key}`, { previousSeq: entry.revision }).catch(() => undefined);
    }
  }

  async lease(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const name = `lease.${key}`;
    const value: LeaseValue = { holder: randomUUID(), until: this.now() + ttlMs };
    const payload = JSON.stringify(value);
    let revision: number;
    const existing = await this.kv.get(name);
    try {
      if (!existing || existing.operation !== 'PUT') {
        revision = await this.kv.create(name, payload);
      } else {
        const held = JSON.parse(existing.string()) as LeaseValue;
        if (held.until > this.now()) return undefined;
        revision = await this.kv.update(name, payload, existing.revision);
      }
    } catch {
      // Another process created or took over the lease first.
      return undefined;
    }
    return async () => {
      await this.kv.delete(name, { previousSeq: revision }).catch(() => undefined);
    };
  }
}

/**
 * Opens the shared token bucket, which the topology's owner creates
 * (@tep/pipeline ensureTopology, with a two-hour TTL: Zoho's tokens last an hour).
 */
export async function openAccessTokenStore(
  nc: NatsConnection,
  bucket: string,
  cipher: SecretCipher,
): Promise<KvAccessTokenStore> {
  const kv = await new Kvm(nc).open(bucket);
  return new KvAccessTokenStore(kv, cipher);
}

/**
 * For one-off commands (`tep`, the back-fill) that have no NATS connection of
 * their own: connects (no reconnect loop: fail fast), opens the store, and
 * closes the connection when asked. Throws when NATS or the bucket cannot be
 * used; the caller decides whether a private token will do.
 */
export async function connectAccessTokenStore(options: {
  /** Servers, name and credentials (@tep/pipeline natsConnectionOptions). */
  connection: ConnectionOptions;
  bucket: string;
  cipher: SecretCipher;
  timeoutMs?: number;
}): Promise<{ store: KvAccessTokenStore; close(): Promise<void> }> {
  const nc = await connect({
    ...options.connection,
    timeout: options.timeoutMs ?? 3_000,
    reconnect: false,
  });
  const close = () => nc.close().catch(() => undefined);
  try {
    const store = await openAccessTokenStore(nc, options.bucket, options.cipher);
    return { store, close };
  } catch (error) {
    await close();
    throw error;
  }
}

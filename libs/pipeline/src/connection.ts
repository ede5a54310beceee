import type { ConnectionOptions } from '@nats-io/transport-node';

/** How a process reaches NATS: the URL list and, in production, its user and TLS trust. */
export interface NatsSettings {
  /** One or more comma-separated `nats://` / `tls://` URLs (a cluster's seed list). */
  url: string;
  /** The service's own NATS user (deploy/k8s/base/nats/auth.conf). */
  user?: string;
  password?: string;
  /** PEM file of the CA that signed the servers' certificates (a private CA). */
  tlsCaFile?: string;
}

/** The settings from the variables every process reads (@tep/config's NATS_*). */
export const natsSettingsOf = (env: {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TLS_CA_FILE?: string;
}): NatsSettings => ({
  url: env.NATS_URL,
  user: env.NATS_USER,
  password: env.NATS_PASSWORD,
  tlsCaFile: env.NATS_TLS_CA_FILE,
});

/**
 * The inbox prefix of a NATS user: replies (JetStream API answers, pulled
 * messages, KV reads) come back under it, and its permissions let it
 * subscribe there only — never to another service's inbox, where that
 * service's deliveries arrive.
 */
export const inboxPrefixOf = (user: string): string => `_INBOX_${user}`;

/** The client options for `connect()` from the settings. */
export function natsConnectionOptions(
  settings: NatsSettings,
  name: string,
): ConnectionOptions & { servers: string[] } {
  return {
    servers: settings.url.split(',').map((s) => s.trim()),
    name,
    // Without this the client builds two Errors per request (a stack for a
    // later timeout or failure) on the hot path of every publish and pull;
    // a failed request still rejects with its own error and message.
    noAsyncTraces: true,
    ...(settings.user
      ? { user: settings.user, pass: settings.password, inboxPrefix: inboxPrefixOf(settings.user) }
      : {}),
    ...(settings.tlsCaFile ? { tls: { caFile: settings.tlsCaFile } } : {}),
  };
}

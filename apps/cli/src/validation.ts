/**
 * Onboarding step 5 (validation testing), piece by piece: the runbook's
 * test webhook signed over the exact bytes sent, the ingress refusing
 * unsigned and mis-signed copies, the note read back through the SDP API,
 * and the tenant's own rows and metrics as the platform sees them.
 */
import { randomBytes } from 'node:crypto';
import { EnhancementPreferencesSchema } from '@tep/contracts';
import type { ServiceDeskClient, ServiceDeskNote } from '@tep/servicedesk-client';
import { signHex } from '@tep/webhook-signature';
import type { Fact } from './checklist';
import { findJob, readAsTenant, withPg, type JobRow } from './db';
import { UnreachableError } from './errors';
import { causeOf } from './registry-client';
import { SIGNATURE_HEADER, STATIC_TOKEN_HEADER } from './sdp-instructions';

/** Runbook step 5.1's test payload (its ticket id is replaced by a real SDP request's). */
export const RUNBOOK_TEST_PAYLOAD = {
  ticket_id: 'TKT-12345',
  subject: 'Database connection timeout error',
  description:
    "Application reports 'Connection timeout' when querying PostgreSQL database. Error started at 10:30 AM. All other services operational.",
  priority: 'High',
  status: 'Open',
  requester_email: 'user@acmecorp.com',
  created_at: '2025-11-03T10:30:00Z',
} as const;

export const VALIDATION_SUBJECT = 'TEP onboarding validation';

/** Every note the poster writes carries this line (apps/servicedesk-poster render-note). */
export const jobMarker = (jobId: string) => `Enhancement ref: ${jobId}`;

export function testPayload(
  ticket: { id: string; subject: string },
  options: { requesterEmail?: string; now?: Date } = {},
): Record<string, string> {
  return {
    ...RUNBOOK_TEST_PAYLOAD,
    ticket_id: ticket.id,
    subject: ticket.subject || RUNBOOK_TEST_PAYLOAD.subject,
    requester_email: options.requesterEmail ?? RUNBOOK_TEST_PAYLOAD.requester_email,
    created_at: (options.now ?? new Date()).toISOString(),
    event: 'created',
  };
}

export interface WebhookReply {
  status: number;
  body: Record<string, unknown>;
}

export function webhookEndpoint(ingressUrl: string, tenantId: string): string {
  const url = new URL('/webhook/servicedesk', ingressUrl);
  url.searchParams.set('tenant_id', tenantId);
  return url.toString();
}

export async function postWebhook(
  ingressUrl: string,
  tenantId: string,
  body: string,
  headers: Record<string, string>,
): Promise<WebhookReply> {
  let res: Response;
  try {
    res = await fetch(webhookEndpoint(ingressUrl, tenantId), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new UnreachableError(`webhook ingress unreachable at ${ingressUrl}: ${causeOf(error)}`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends the body signed with the tenant's secret. A brand-new tenant reaches
 * the ingress through the directory within moments; until then the ingress
 * answers 403 (unknown tenant) or 503 (directory not ready), so those are
 * retried for a short while — anything else is the answer.
 */
export async function sendSignedWebhook(input: {
  ingressUrl: string;
  tenantId: string;
  secret: string;
  body: string;
  propagationTimeoutMs?: number;
}): Promise<{ reply: WebhookReply; attempts: number }> {
  const deadline = Date.now() + (input.propagationTimeoutMs ?? 15_000);
  const headers = { [SIGNATURE_HEADER]: signHex(input.secret, input.body) };
  for (let attempts = 1; ; attempts += 1) {
    const reply = await postWebhook(input.ingressUrl, input.tenantId, input.body, headers);
    if (![403, 503].includes(reply.status) || Date.now() > deadline) return { reply, attempts };
    await sleep(250);
  }
}

/** The ingress must refuse the same body unsigned (401) and signed with another secret (403). */
export async function checkSignatureEnforced(input: {
  ingressUrl: string;
  tenantId: string;
  body: string;
  scheme: 'hmac' | 'static_header';
}): Promise<Fact> {
  const unsigned = await postWebhook(input.ingressUrl, input.tenantId, input.body, {});
  const wrongSecret = randomBytes(32).toString('hex');
  const misSigned = await postWebhook(input.ingressUrl, input.tenantId, input.body, {
    [SIGNATURE_HEADER]: signHex(wrongSecret, input.body),
  });
  const checks = [`unsigned → ${unsigned.status}`, `wrong signature → ${misSigned.status}`];
  let ok = unsigned.status === 401 && misSigned.status === 403;
  if (input.scheme === 'static_header') {
    const wrongToken = await postWebhook(input.ingressUrl, input.tenantId, input.body, {
      [STATIC_TOKEN_HEADER]: wrongSecret,
    });
    checks.push(`wrong ${STATIC_TOKEN_HEADER} → ${wrongToken.status}`);
    ok = ok && wrongToken.status === 403;
  }
  return {
    ok,
    detail: `${checks.join(', ')}${ok ? '' : ' (expected 401 and 403)'}${input.scheme === 'static_header' ? '; WEAKER: a static header is accepted instead of a signature' : ''}`,
  };
}

export interface NoteOutcome {
  /** Notes on the ticket carrying this job's marker (exactly one is right). */
  notes: ServiceDeskNote[];
  job?: JobRow;
  /** Why waiting stopped without a note. */
  failure?: string;
}

/**
 * Polls until the job's note is on the ticket (read back through the SDP
 * API) and enhancement_history says posted, the job failed, or time is up.
 */
export async function waitForNote(input: {
  client: ServiceDeskClient;
  ticketId: string;
  jobId: string;
  tenantId: string;
  databaseUrl: string;
  timeoutMs: number;
  pollMs?: number;
}): Promise<NoteOutcome> {
  const deadline = Date.now() + input.timeoutMs;
  const marker = jobMarker(input.jobId);
  let lastSdpError: string | undefined;
  let job: JobRow | undefined;
  return withPg(input.databaseUrl, async (db): Promise<NoteOutcome> => {
    for (;;) {
      job = await findJob(db, input.tenantId, input.jobId);
      if (job?.status === 'failed') {
        return {
          notes: [],
          job,
          failure: `the pipeline failed the job: ${job.error ?? 'no reason recorded'}`,
        };
      }
      let notes: ServiceDeskNote[] = [];
      try {
        notes = (await input.client.listNotes(input.ticketId)).filter((n) =>
          n.descriptionHtml.includes(marker),
        );
        lastSdpError = undefined;
      } catch (error) {
        lastSdpError = error instanceof Error ? error.message : String(error);
      }
      if (notes.length > 0 && job?.status === 'posted') return { notes, job };
      if (Date.now() > deadline) {
        return {
          notes,
          job,
          failure:
            notes.length > 0
              ? `the note is on the ticket but enhancement_history says ${job?.status ?? 'nothing'}`
              : `no note for job ${input.jobId} on request ${input.ticketId} within ${Math.round(input.timeoutMs / 1000)} s (job ${job?.status ?? 'not recorded'}${lastSdpError ? `; last SDP error: ${lastSdpError}` : ''})`,
        };
      }
      await sleep(input.pollMs ?? 500);
    }
  });
}

const FERNET_TOKEN = /^gAAAAA[A-Za-z0-9_-]+=*$/;

/**
 * Database checklist facts, read under the tenant's own RLS context as the
 * registry's role (only it may read the secret columns this checks).
 */
export async function databaseFacts(input: {
  databaseUrl: string;
  tenantId: string;
  plaintexts: string[];
}): Promise<{
  tenantRecord: Fact;
  tenantUnique: Fact;
  credentialsEncrypted: Fact;
  preferencesValid: Fact;
}> {
  return withPg(input.databaseUrl, (client) =>
    readAsTenant(client, input.tenantId, async () => {
      const { rows } = await client.query<{
        tenant_id: string;
        name: string;
        servicedesk_api_key_encrypted: string;
        webhook_signing_secret_encrypted: string;
        enhancement_preferences: unknown;
      }>(
        `SELECT tenant_id::text, name, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted,
                enhancement_preferences
           FROM tenant_configs WHERE tenant_id = $1`,
        [input.tenantId],
      );
      const row = rows[0];
      const encrypted = row
        ? [row.servicedesk_api_key_encrypted, row.webhook_signing_secret_encrypted]
        : [];
      const plaintextFound = encrypted.some((value) =>
        input.plaintexts.some((p) => p.length > 0 && value.includes(p)),
      );
      const allTokens = encrypted.length === 2 && encrypted.every((v) => FERNET_TOKEN.test(v));
      const preferences = row
        ? EnhancementPreferencesSchema.safeParse(row.enhancement_preferences)
        : undefined;
      return {
        tenantRecord: row
          ? {
              ok: true,
              detail: `found as the application role under the tenant's RLS context ("${row.name}")`,
            }
          : { ok: false, detail: 'no tenant_configs row visible under the tenant context' },
        tenantUnique: {
          ok: rows.length === 1,
          detail: `${rows.length} row(s) for tenant_id ${input.tenantId} (tenant_id has a UNIQUE constraint)`,
        },
        credentialsEncrypted: {
          ok: allTokens && !plaintextFound,
          detail:
            allTokens && !plaintextFound
              ? 'both columns hold Fernet tokens, neither contains the plaintext'
              : plaintextFound
                ? 'a credential column CONTAINS THE PLAINTEXT'
                : 'a credential column is not a Fernet token',
        },
        preferencesValid: preferences?.success
          ? { ok: true, detail: `valid: ${JSON.stringify(preferences.data)}` }
          : {
              ok: false,
              detail: preferences ? `invalid: ${preferences.error.issues[0]?.message}` : 'no row',
            },
      };
    }),
  );
}

/** `enhancement_requests_total{tenant_id="…"}` on the ingress's /metrics (summed over labels). */
export async function tenantMetric(ingressUrl: string, tenantId: string): Promise<Fact> {
  let text: string;
  try {
    const res = await fetch(`${ingressUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    text = await res.text();
    if (!res.ok) return { ok: false, detail: `${ingressUrl}/metrics answered ${res.status}` };
  } catch (error) {
    return { ok: false, detail: `${ingressUrl}/metrics unreachable: ${causeOf(error)}` };
  }
  const total = text
    .split('\n')
    .filter(
      (l) => l.startsWith('enhancement_requests_total{') && l.includes(`tenant_id="${tenantId}"`),
    )
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return total >= 1
    ? {
        ok: true,
        detail: `enhancement_requests_total{tenant_id="${tenantId}"} = ${total} on the ingress's /metrics`,
      }
    : {
        ok: false,
        detail: `no enhancement_requests_total for this tenant on ${ingressUrl}/metrics`,
      };
}

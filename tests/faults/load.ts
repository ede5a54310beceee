/**
 * Signed webhooks as a configured SDP sends them, on a schedule that does
 * not wait for replies (a slow or failing ingress does not slow the sender
 * down). Every reply is recorded: a 202 is an accepted job; anything else is
 * a rejection the sender would have to retry — this suite does not.
 */
import { createHmac } from 'node:crypto';
import { sleep } from './infra';
import type { Platform, Tenant } from './platform';

export interface SentWebhook {
  tenantIndex: number;
  ticketId: string;
  /** A ticket SDP does not have: must end as a dead letter, not a note. */
  poison: boolean;
  /** Milliseconds after the scenario started. */
  sentAtMs: number;
  latencyMs: number;
  /** HTTP status, or 0 when no reply came (connection error, timeout). */
  status: number;
  jobId?: string;
  error?: string;
}

export interface TicketSpec {
  tenant: Tenant;
  ticketId: string;
  poison: boolean;
  payload: Record<string, unknown>;
}

/**
 * What a configured SDP sends: the payload serialised once, those exact
 * bytes signed (hex HMAC-SHA256, X-ServiceDesk-Signature) and posted.
 */
export async function postWebhook(
  url: string,
  secret: string,
  payload: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-ServiceDesk-Signature': signature },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: await res.text() };
}

export class WebhookSender {
  readonly sent: SentWebhook[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly platform: Platform,
    private readonly startedAt: number,
  ) {}

  /** Sends now; the reply is recorded when it comes. */
  fire(spec: TicketSpec): void {
    const sentAt = Date.now();
    const record: SentWebhook = {
      tenantIndex: spec.tenant.index,
      ticketId: spec.ticketId,
      poison: spec.poison,
      sentAtMs: sentAt - this.startedAt,
      latencyMs: 0,
      status: 0,
    };
    this.sent.push(record);
    const task = postWebhook(
      this.platform.webhookUrl(spec.tenant),
      spec.tenant.webhookSecret,
      spec.payload,
    )
      .then((reply) => {
        record.status = reply.status;
        if (reply.status === 202) {
          record.jobId = (JSON.parse(reply.body) as { job_id: string }).job_id;
        } else {
          record.error = reply.body.slice(0, 200);
        }
      })
      .catch((error: unknown) => {
        record.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        record.latencyMs = Date.now() - sentAt;
        this.inFlight.delete(task);
      });
    this.inFlight.add(task);
  }

  /** Sends them all as fast as the ingress answers, with at most `maxInFlight` waiting. */
  async flood(specs: TicketSpec[], maxInFlight: number): Promise<void> {
    for (const spec of specs) {
      while (this.inFlight.size >= maxInFlight) await Promise.race([...this.inFlight]);
      this.fire(spec);
    }
    await this.settled();
  }

  /** Resolves when every webhook sent so far has its reply (or its error). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}

let ticketSerial = 0;

/**
 * `count` distinct tickets, round-robin over the tenants, seeded on each
 * tenant's simulator (except every `poisonEvery`-th, which SDP never had).
 */
export async function makeTickets(
  platform: Platform,
  prefix: string,
  count: number,
  poisonEvery: number,
  tenants: Tenant[] = platform.tenants,
): Promise<TicketSpec[]> {
  const specs: TicketSpec[] = [];
  const seeds = new Map<Tenant, { display_id: string; subject: string; status: string }[]>();
  for (let i = 0; i < count; i++) {
    const tenant = tenants[i % tenants.length];
    const poison = poisonEvery > 0 && i % poisonEvery === poisonEvery - 1;
    const ticketId = `${prefix}-${String(++ticketSerial).padStart(5, '0')}${poison ? '-GONE' : ''}`;
    const subject = `${prefix} ticket ${i + 1}: VPN drops every few minutes for the finance team`;
    if (!poison) {
      const list = seeds.get(tenant) ?? [];
      list.push({ display_id: ticketId, subject, status: 'Open' });
      seeds.set(tenant, list);
    }
    specs.push({
      tenant,
      ticketId,
      poison,
      payload: {
        ticket_id: ticketId,
        subject,
        description: `<p>Reported at ${new Date().toISOString()} by the fault suite.</p>`,
        priority: i % 3 === 0 ? 'High' : 'Medium',
        status: 'Open',
        requester_email: `user${i}@tenant${tenant.index}.example`,
        created_at: new Date().toISOString(),
      },
    });
  }
  await Promise.all([...seeds].map(([tenant, requests]) => tenant.sdp.seed(requests)));
  return specs;
}

/** Fires the tickets evenly over `durationMs`, then waits for every reply. */
export async function steadyStream(
  sender: WebhookSender,
  specs: TicketSpec[],
  durationMs: number,
): Promise<void> {
  const interval = specs.length > 1 ? durationMs / (specs.length - 1) : 0;
  const start = Date.now();
  for (let i = 0; i < specs.length; i++) {
    const due = start + i * interval;
    if (due > Date.now()) await sleep(due - Date.now());
    sender.fire(specs[i]);
  }
  await sender.settled();
}

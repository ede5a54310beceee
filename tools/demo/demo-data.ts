/**
 * A demo tenant's history, knowledge base and inventory, so the first
 * enhancement (the runbook's TKT-12345 "Database connection timeout error")
 * has real context: two resolved look-alikes (the runbook's TKT-10203 and
 * TKT-11405), KB articles and the database host it mentions.
 */
import { storedTextOf } from '@tep/context-retrieval';
import type { TenantTransaction } from '@tep/data';

export const DEMO_HISTORY = [
  {
    ticket_id: 'TKT-10203',
    subject: 'Intermittent database connection timeout from billing app',
    description:
      'Billing application logs "Connection timeout" when querying PostgreSQL during month-end batch.',
    resolution:
      'Connection pool was exhausted by the batch job. Raised max pool size from 20 to 50 and added a 30 s idle timeout; checked active connections with SELECT count(*) FROM pg_stat_activity.',
  },
  {
    ticket_id: 'TKT-11405',
    subject: 'PostgreSQL connection pool exhausted after deploy',
    description: 'After the 2.3 release every service reported database connection timeouts.',
    resolution:
      'A slow query introduced by a schema change held connections open. Added the missing index on orders(customer_id) and restarted the app to release the pool.',
  },
  {
    ticket_id: 'TKT-9120',
    subject: 'VPN disconnects every hour',
    description: 'Remote users are dropped from the VPN gateway vpn-gw1 every 60 minutes.',
    resolution:
      'Rekey lifetime mismatch between client profile and gateway; aligned IKE lifetime to 8 h.',
  },
  {
    ticket_id: 'TKT-9877',
    subject: 'Printer on 3rd floor shows offline',
    description: 'HP LaserJet prn-3f is offline for all users.',
    resolution:
      'Printer had a new DHCP lease; reserved its address 10.20.3.40 and re-added the queue.',
  },
] as const;

export const DEMO_KB = [
  {
    article_id: 'KB-101',
    title: 'Diagnosing PostgreSQL connection timeouts',
    keywords: 'postgresql, database, connection, timeout, pool',
    content:
      'Check pg_stat_activity for the number of active and idle-in-transaction connections, compare with max_connections and the application pool size, and look for long-running queries holding connections.',
  },
  {
    article_id: 'KB-205',
    title: 'VPN client reconnect troubleshooting',
    keywords: 'vpn, ike, rekey',
    content: 'Compare IKE and IPsec lifetimes between gateway and client profiles.',
  },
] as const;

export const DEMO_INVENTORY = [
  {
    hostname: 'db01.acme.local',
    ip_address: '10.0.0.5',
    service_name: 'postgresql',
    status: 'degraded',
    description: 'Primary PostgreSQL 17 server',
  },
  {
    hostname: 'app01.acme.local',
    ip_address: '10.0.0.21',
    service_name: 'billing',
    status: 'up',
    description: 'Billing application server',
  },
  {
    hostname: 'vpn-gw1',
    ip_address: '10.0.0.1',
    service_name: 'vpn',
    status: 'up',
    description: 'VPN gateway',
  },
] as const;

/** Idempotent: run it on every start. */
export async function seedDemoData(tx: TenantTransaction): Promise<void> {
  for (const t of DEMO_HISTORY) {
    // Stored and indexed like webhook tickets, so the demo needs no db:reindex.
    const stored = storedTextOf(t);
    await tx.query(
      `INSERT INTO ticket_history (tenant_id, ticket_id, display_id, subject, description, status, resolution, source,
                                   resolved_at, clean_description, language)
       VALUES ($1, $2, $2, $3, $4, 'Resolved', $5, 'import', now() - interval '30 days', $6, $7)
       ON CONFLICT (tenant_id, ticket_id) DO NOTHING`,
      [
        tx.tenantId,
        t.ticket_id,
        stored.subject,
        stored.description,
        stored.resolution,
        stored.cleanDescription,
        stored.language,
      ],
    );
  }
  for (const a of DEMO_KB) {
    await tx.query(
      `INSERT INTO kb_articles (tenant_id, article_id, title, keywords, content)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, article_id) DO NOTHING`,
      [tx.tenantId, a.article_id, a.title, a.keywords, a.content],
    );
  }
  for (const s of DEMO_INVENTORY) {
    await tx.query(
      `INSERT INTO system_inventory (tenant_id, hostname, ip_address, service_name, status, description, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (tenant_id, hostname) DO NOTHING`,
      [tx.tenantId, s.hostname, s.ip_address, s.service_name, s.status, s.description],
    );
  }
}

/** The runbook's step 5.1 payload, byte for byte (with its trailing newline). */
export const RUNBOOK_TEST_PAYLOAD = `{
  "ticket_id": "TKT-12345",
  "subject": "Database connection timeout error",
  "description": "Application reports 'Connection timeout' when querying PostgreSQL database. Error started at 10:30 AM. All other services operational.",
  "priority": "High",
  "status": "Open",
  "requester_email": "user@acmecorp.com",
  "created_at": "2025-11-03T10:30:00Z"
}
`;

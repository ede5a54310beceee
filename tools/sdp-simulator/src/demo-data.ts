import type { SeedInput } from './store';

/**
 * Demo tickets for the runbook's walk-through: TKT-12345 is the runbook's
 * test ticket (its webhook payload uses `"ticket_id": "TKT-12345"`), and the
 * resolved tickets and solutions give the context gatherer something to find.
 * TKT-10203 and TKT-11405 are the "related tickets" the runbook's sample
 * enhancement cites.
 */
export const DEMO_SEED: SeedInput = {
  requests: [
    {
      display_id: 'TKT-12345',
      subject: 'Database connection timeout error',
      description:
        "<div>Application reports 'Connection timeout' when querying PostgreSQL database. Error started at 10:30 AM. All other services operational.</div>",
      status: 'Open',
      priority: 'High',
      category: 'Database',
      requester: { name: 'Acme User', email_id: 'user@acmecorp.com' },
      created_time: '2025-11-03T10:30:00Z',
    },
    {
      display_id: 'TKT-10203',
      subject: 'Intermittent database timeouts from the billing service',
      description:
        '<div>Billing jobs fail with <b>connection timeout</b> against PostgreSQL during the nightly run.</div>',
      status: 'Resolved',
      priority: 'High',
      category: 'Database',
      requester: { name: 'Billing Team', email_id: 'billing@acmecorp.com' },
      technician: { name: 'Dana DBA', email_id: 'dana@msp.example' },
      created_time: '2025-08-12T02:10:00Z',
      resolved_time: '2025-08-12T06:40:00Z',
      resolution:
        '<div>Connection pool was exhausted: max pool size 10 with 40 workers. Raised pool size to 50 and added a 30 s idle timeout.</div>',
    },
    {
      display_id: 'TKT-11405',
      subject: 'Connection pool exhausted after deploy',
      description:
        '<div>After release 4.2 the API returns 500s; logs show "remaining connection slots are reserved".</div>',
      status: 'Closed',
      priority: 'Urgent',
      category: 'Database',
      requester: { name: 'Platform Team', email_id: 'platform@acmecorp.com' },
      technician: { name: 'Dana DBA', email_id: 'dana@msp.example' },
      created_time: '2025-10-01T09:00:00Z',
      resolved_time: '2025-10-01T11:15:00Z',
      resolution:
        '<div>A new query leaked connections (no release in an error path). Fixed the leak and set idle_in_transaction_session_timeout.</div>',
      notes: [{ description: '<div>Rolled back to 4.1 as a stop-gap.</div>' }],
    },
    {
      display_id: 'TKT-10877',
      subject: 'VPN disconnects every 30 minutes',
      description: '<div>Remote staff lose the VPN tunnel roughly every half hour.</div>',
      status: 'Resolved',
      priority: 'Medium',
      category: 'Network',
      requester: { name: 'Remote Sales', email_id: 'sales@acmecorp.com' },
      created_time: '2025-09-15T14:00:00Z',
      resolved_time: '2025-09-16T10:00:00Z',
      resolution: '<div>IKE rekey lifetime mismatch; aligned phase 2 lifetime to 3600 s.</div>',
    },
    {
      display_id: 'TKT-11002',
      subject: 'Disk space full on app server',
      description: '<div>/var on app-02 is at 100%; services fail to write logs.</div>',
      status: 'Closed',
      priority: 'High',
      category: 'Server',
      requester: { name: 'Ops', email_id: 'ops@acmecorp.com' },
      created_time: '2025-09-20T07:30:00Z',
      resolved_time: '2025-09-20T08:05:00Z',
      resolution: '<div>Rotated and compressed logs; enabled logrotate with 7-day retention.</div>',
    },
    {
      display_id: 'TKT-11210',
      subject: 'Printer on 3rd floor not printing',
      description: '<div>Jobs stay queued on PRN-3F.</div>',
      status: 'Resolved',
      priority: 'Low',
      category: 'Printers',
      requester: { name: 'Front Office', email_id: 'office@acmecorp.com' },
      created_time: '2025-09-25T12:00:00Z',
      resolved_time: '2025-09-25T12:45:00Z',
      resolution: '<div>Cleared the stuck spooler queue and restarted the print spooler.</div>',
    },
  ],
  solutions: [
    {
      title: 'Resolving PostgreSQL connection pool exhaustion',
      description:
        '<div>Check <code>SELECT count(*) FROM pg_stat_activity;</code>, compare with the pool size and max_connections, look for leaked connections and long idle transactions.</div>',
      topic: 'Database',
      keywords: ['postgresql', 'connection pool', 'timeout'],
      no_of_hits: 42,
      created_time: '2025-06-01T08:00:00Z',
    },
    {
      title: 'VPN client drops the connection periodically',
      description: '<div>Compare IKE phase 1/2 lifetimes on both ends; enable DPD.</div>',
      topic: 'Network',
      keywords: ['vpn', 'ipsec', 'disconnect'],
      no_of_hits: 17,
      created_time: '2025-06-02T08:00:00Z',
    },
    {
      title: 'Freeing disk space on Linux servers',
      description: '<div>Find large files with du/ncdu, rotate logs, clean package caches.</div>',
      topic: 'Server',
      keywords: ['disk space', 'linux', 'logrotate'],
      no_of_hits: 30,
      created_time: '2025-06-03T08:00:00Z',
    },
    {
      title: 'Clearing a stuck print queue',
      description: '<div>Stop the spooler, delete the spool files, start the spooler.</div>',
      topic: 'Printers',
      keywords: ['printer', 'spooler'],
      no_of_hits: 55,
      created_time: '2025-06-04T08:00:00Z',
    },
    {
      title: 'Draft: tuning PgBouncer for many small services',
      description: '<div>Work in progress, not reviewed.</div>',
      topic: 'Database',
      keywords: ['pgbouncer', 'connection pool'],
      approved: false,
      created_time: '2025-10-05T08:00:00Z',
    },
  ],
};

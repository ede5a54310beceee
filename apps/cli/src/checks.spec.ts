import { exitCodeOf, judgeTableSecurity } from './checks';
import { ExitCode } from './errors';

const policy = (cmd: string, qual: string | null, withCheck: string | null) => ({
  policyname: 'p',
  cmd,
  qual,
  with_check: withCheck,
});
const TENANT = `(tenant_id = ( SELECT (NULLIF(current_setting('app.current_tenant_id'::text, true), ''::text))::uuid AS nullif))`;

describe('RLS prerequisite (runbook prerequisite 5, tightened)', () => {
  const table = {
    table: 'ticket_history',
    exists: true,
    relrowsecurity: true,
    relforcerowsecurity: true,
    policies: [policy('ALL', TENANT, TENANT)],
  };

  it('passes an enabled, forced table with a FOR ALL tenant policy on USING and WITH CHECK', () => {
    expect(judgeTableSecurity(table, true)).toMatchObject({ status: 'passed' });
  });

  it('fails a table that is not FORCED: its owner would read every tenant', () => {
    expect(judgeTableSecurity({ ...table, relforcerowsecurity: false }, true)).toMatchObject({
      status: 'failed',
      detail: 'row level security is not FORCED',
    });
  });

  it('fails a tenant table whose policy has no WITH CHECK (writes could cross tenants)', () => {
    const result = judgeTableSecurity({ ...table, policies: [policy('ALL', TENANT, null)] }, true);
    expect(result.status).toBe('failed');
    expect(result.detail).toContain('WITH CHECK');
    // The read-only audit log only needs the USING side.
    expect(
      judgeTableSecurity({ ...table, policies: [policy('SELECT', TENANT, null)] }, false).status,
    ).toBe('passed');
  });

  it('fails a missing table and one without RLS or policies, naming each problem', () => {
    expect(judgeTableSecurity({ ...table, exists: false }, true).detail).toContain(
      'does not exist',
    );
    expect(
      judgeTableSecurity(
        { ...table, relrowsecurity: false, relforcerowsecurity: false, policies: [] },
        true,
      ).detail,
    ).toBe(
      "row level security is not enabled; row level security is not FORCED; no policy FOR ALL with USING and WITH CHECK on current_setting('app.current_tenant_id')",
    );
  });

  it('exits 3 when something did not answer, 1 when something failed, else 0', () => {
    const pass = { name: 'a', status: 'passed' as const, detail: '' };
    const fail = { name: 'b', status: 'failed' as const, detail: '' };
    expect(exitCodeOf([pass])).toBe(ExitCode.Ok);
    expect(exitCodeOf([pass, fail])).toBe(ExitCode.CheckFailed);
    expect(exitCodeOf([fail, { ...fail, unreachable: true }])).toBe(ExitCode.Unreachable);
  });
});

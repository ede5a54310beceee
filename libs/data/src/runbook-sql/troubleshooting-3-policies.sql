-- Runbook troubleshooting issue 3, step 2, verbatim.
SELECT tablename, policyname, cmd, qual
FROM pg_policies
WHERE tablename IN ('tenant_configs', 'enhancement_history', 'ticket_history', 'system_inventory');

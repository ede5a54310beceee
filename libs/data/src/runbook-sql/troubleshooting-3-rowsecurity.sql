-- Runbook troubleshooting issue 3, step 1, verbatim.
SELECT tablename, rowsecurity
FROM pg_tables
WHERE tablename IN ('tenant_configs', 'enhancement_history', 'ticket_history', 'system_inventory');

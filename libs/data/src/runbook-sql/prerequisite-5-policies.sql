-- Runbook prerequisite 5, verbatim.
SELECT tablename, policyname, cmd
FROM pg_policies
WHERE tablename IN ('tenant_configs', 'enhancement_history', 'ticket_history', 'system_inventory')
ORDER BY tablename, policyname;

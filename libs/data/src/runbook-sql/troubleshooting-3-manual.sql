-- Runbook troubleshooting issue 3, step 3, verbatim.
SET app.current_tenant_id = '550e8400-e29b-41d4-a716-446655440000';
SELECT * FROM enhancement_history WHERE tenant_id != '550e8400-e29b-41d4-a716-446655440000';

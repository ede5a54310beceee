-- Runbook step 2.3, verbatim.
SELECT
    tenant_id,
    name,
    servicedesk_url,
    created_at,
    enhancement_preferences->>'llm_model' as llm_model
FROM tenant_configs
WHERE tenant_id = '550e8400-e29b-41d4-a716-446655440000';

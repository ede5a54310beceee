-- Runbook step 2.2, verbatim.
INSERT INTO tenant_configs (
    id,
    tenant_id,
    name,
    servicedesk_url,
    servicedesk_api_key_encrypted,
    webhook_signing_secret_encrypted,
    enhancement_preferences,
    rate_limits,
    created_at,
    updated_at
) VALUES (
    gen_random_uuid(),  -- Auto-generate primary key ID
    '550e8400-e29b-41d4-a716-446655440000',  -- tenant_id from Step 1.1
    'Acme Corp MSP',  -- Client company name
    'https://servicedesk.acmecorp.com',  -- ServiceDesk Plus URL
    'gAAAAABhKq...',  -- Encrypted API key from Step 2.1
    'gAAAAABhKr...',  -- Encrypted webhook secret from Step 2.1
    '{
        "context_sources": ["ticket_history", "kb", "monitoring"],
        "output_format": "markdown",
        "max_tokens": 500,
        "llm_model": "openai/gpt-4o-mini",
        "include_confidence_score": true
    }'::jsonb,  -- Enhancement preferences
    '{"requests_per_minute": 100}'::jsonb,  -- Rate limits (optional)
    NOW(),
    NOW()
);

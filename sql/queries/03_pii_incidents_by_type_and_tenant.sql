-- PII incidents by type and tenant: which kinds of personal data customers leak into the chat
-- most, and where. entities counts every finding of the pii agent; messages and conversations
-- count distinct ones.
SELECT
    tenant_id,
    pii_type,
    COUNT(*) AS entities,
    COUNT(DISTINCT message_id) AS messages,
    COUNT(DISTINCT conversation_id) AS conversations
FROM pii_entities
GROUP BY tenant_id, pii_type
ORDER BY entities DESC, tenant_id, pii_type;

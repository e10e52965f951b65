-- Every agent that answers, built-in and custom alike, per tenant: aggregated records carrying the
-- agent's answer and the conversations it answered in, with one field of each answer read from its
-- JSON text (the label, intent, status or, for a custom agent, its first field).
SELECT
    t.tenant_id,
    a.agent,
    COUNT(*) AS records,
    COUNT(DISTINCT t.conversation_id) AS conversations,
    MAX(COALESCE(
        JSON_VALUE(a.answer, '$.label'),
        JSON_VALUE(a.answer, '$.intent'),
        JSON_VALUE(a.answer, '$.resolution_status'),
        JSON_VALUE(a.answer, '$.has_pii'))) AS a_value
FROM aggregated AS t
CROSS JOIN UNNEST(t.agents) AS a (agent, answer)
GROUP BY t.tenant_id, a.agent;

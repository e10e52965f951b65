-- Alerts per tenant and type: how many alerts the job raised (one per episode), on how many
-- conversations, how many of them critical, and when the first and the last were raised.
SELECT
    tenant_id,
    `type`,
    COUNT(*) AS alerts,
    COUNT(DISTINCT conversation_id) AS conversations,
    COUNT(CASE WHEN severity = 'critical' THEN 1 END) AS critical,
    MIN(created_at) AS first_raised,
    MAX(created_at) AS last_raised
FROM alerts
GROUP BY tenant_id, `type`
ORDER BY tenant_id, alerts DESC, `type`;

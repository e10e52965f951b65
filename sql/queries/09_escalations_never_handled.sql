-- Conversations that asked for escalation and never got it: the insights agent said a
-- customer message requires escalation and no agent message followed in the conversation. With
-- the newest intent, urgency and summary of the conversation (from support.ai.aggregated).
WITH requested AS (
    SELECT tenant_id, conversation_id, MIN(version) AS first_requested_version
    FROM insights
    WHERE requires_escalation
    GROUP BY tenant_id, conversation_id
), agent_turns AS (
    SELECT tenant_id, conversation_id, MAX(version) AS last_agent_version
    FROM conversation_state
    WHERE last_message.sender = 'agent'
    GROUP BY tenant_id, conversation_id
), latest AS (
    SELECT tenant_id, conversation_id, version, intent, urgency, resolution_status
    FROM (
        SELECT *, ROW_NUMBER() OVER (
            PARTITION BY tenant_id, conversation_id ORDER BY version DESC) AS rn
        FROM intelligence)
    WHERE rn = 1
)
SELECT
    r.tenant_id,
    r.conversation_id,
    r.first_requested_version AS requested_at_version,
    l.version AS latest_version,
    l.intent,
    l.urgency,
    l.resolution_status
FROM requested AS r
LEFT JOIN agent_turns AS a
    ON a.tenant_id = r.tenant_id AND a.conversation_id = r.conversation_id
JOIN latest AS l
    ON l.tenant_id = r.tenant_id AND l.conversation_id = r.conversation_id
WHERE a.last_agent_version IS NULL OR a.last_agent_version < r.first_requested_version
ORDER BY r.tenant_id, r.conversation_id;

-- Escalations requested vs handled, per tenant. "Requested": a conversation in which the
-- insights agent said a customer message requires escalation. "Handled": an agent replied in
-- that conversation after the first such message (a later version whose message is from the
-- agent). never_handled are the conversations to chase (09_escalations_never_handled.sql lists
-- them).
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
)
SELECT
    r.tenant_id,
    COUNT(*) AS requested,
    COUNT(*) FILTER (WHERE a.last_agent_version > r.first_requested_version) AS handled,
    COUNT(*) FILTER (
        WHERE a.last_agent_version IS NULL
            OR a.last_agent_version < r.first_requested_version) AS never_handled
FROM requested AS r
LEFT JOIN agent_turns AS a
    ON a.tenant_id = r.tenant_id AND a.conversation_id = r.conversation_id
GROUP BY r.tenant_id
ORDER BY requested DESC, r.tenant_id;

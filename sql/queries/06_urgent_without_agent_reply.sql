-- Urgent conversations with no agent reply within ${reply.minutes:10} minutes: customer
-- messages the insights agent rated high or critical urgency after which no agent message came
-- in the same conversation within the time limit (event time of the messages). The interval
-- join looks for the reply; the join with the intelligence keeps the urgent messages.
SELECT
    c.tenant_id,
    c.conversation_id,
    c.message_id,
    c.event_time AS asked_at,
    i.urgency,
    i.intent
FROM (
    SELECT m.tenant_id, m.conversation_id, m.message_id, m.event_time
    FROM messages AS m
    LEFT JOIN (SELECT * FROM messages WHERE sender = 'agent') AS r
        ON r.tenant_id = m.tenant_id
        AND r.conversation_id = m.conversation_id
        AND r.event_time BETWEEN m.event_time
            AND m.event_time + INTERVAL '${reply.minutes:10}' MINUTE
    WHERE m.sender = 'customer' AND r.message_id IS NULL
) AS c
JOIN insights AS i
    ON i.tenant_id = c.tenant_id
    AND i.conversation_id = c.conversation_id
    AND i.message_id = c.message_id
WHERE i.urgency IN ('high', 'critical')
ORDER BY c.tenant_id, c.conversation_id, asked_at;

-- PII in customer messages, found by the SQL functions on the raw text (PII_TYPES, REDACT_PII:
-- the same recognizers as the pii agent, run here in the query): which messages carry which
-- kinds of personal data, and the message as it may be shown.
SELECT
    tenant_id,
    conversation_id,
    message_id,
    ARRAY_JOIN(PII_TYPES(message), ',') AS pii_types,
    REDACT_PII(message) AS redacted
FROM messages
WHERE sender = 'customer' AND CARDINALITY(PII_TYPES(message)) > 0
ORDER BY tenant_id, conversation_id, message_id;

-- SignalStream: one table per Kafka topic, and views that flatten the nested intelligence.
--
-- Run by the `sql` command (or any runner that does the same):
--   * `${name}` / `${name:default}` are substituted before parsing: bootstrap.servers,
--     scan.startup.mode (default earliest-offset), scan.bounded.mode (latest-offset for a
--     bounded, batch-style answer; unbounded for a continuous query), group.id.
--   * statements end with `;` at the end of a line; lines starting with `--` are comments.
--
-- Every table reads read_committed (only output of completed checkpoints), JSON with
-- snake_case fields, ISO-8601 UTC timestamps. Records that are not valid JSON for the table
-- are skipped ('json.ignore-parse-errors'): they are in support.dlq.
--
-- Event time: a record's own time where it has one (messages: `timestamp`), otherwise the
-- Kafka record timestamp (`ts`, metadata). Agent results, aggregated records and dead letters
-- have no time of their own that is an event time, so `ts` is their rowtime.

-- support.messages.raw: the input chat messages. `timestamp` is optional in the input (the job
-- then uses the Kafka record time), so the rowtime falls back to it as well.
CREATE TABLE IF NOT EXISTS messages (
    message_id STRING,
    conversation_id STRING,
    tenant_id STRING,
    sender STRING,
    message STRING,
    channel STRING,
    `timestamp` TIMESTAMP_LTZ(3),
    metadata MAP<STRING, STRING>,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    `partition` INT METADATA VIRTUAL,
    `offset` BIGINT METADATA VIRTUAL,
    event_time AS COALESCE(`timestamp`, ts),
    WATERMARK FOR event_time AS event_time - INTERVAL '1' MINUTE
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.messages.raw',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.conversations.state: one snapshot per accepted message (version = n-th message).
CREATE TABLE IF NOT EXISTS conversation_state (
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    message_count BIGINT,
    last_message ROW<message_id STRING, sender STRING, message STRING, `timestamp` TIMESTAMP_LTZ(3)>,
    recent_messages ARRAY<ROW<message_id STRING, sender STRING, message STRING, `timestamp` TIMESTAMP_LTZ(3)>>,
    first_activity TIMESTAMP_LTZ(3),
    last_activity TIMESTAMP_LTZ(3),
    scheduled_agents ARRAY<STRING>,
    source ROW<topic STRING, `partition` INT, `offset` BIGINT>,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.conversations.state',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.ai.sentiment: one AgentResult per sentiment call.
CREATE TABLE IF NOT EXISTS sentiment_results (
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    message_id STRING,
    agent STRING,
    status STRING,
    provider STRING,
    model STRING,
    prompt_version STRING,
    prompt_hash STRING,
    latency_ms BIGINT,
    attempts INT,
    `usage` ROW<prompt_tokens BIGINT, completion_tokens BIGINT>,
    `result` ROW<label STRING, score DOUBLE, confidence DOUBLE, emotion STRING, reasoning STRING>,
    error STRING,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.ai.sentiment',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.ai.pii: one AgentResult per pii call; entity offsets index the message text.
CREATE TABLE IF NOT EXISTS pii_results (
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    message_id STRING,
    agent STRING,
    status STRING,
    provider STRING,
    model STRING,
    prompt_version STRING,
    prompt_hash STRING,
    latency_ms BIGINT,
    attempts INT,
    `usage` ROW<prompt_tokens BIGINT, completion_tokens BIGINT>,
    `result` ROW<
        has_pii BOOLEAN,
        entities ARRAY<ROW<`type` STRING, `start` INT, `end` INT, score DOUBLE>>,
        redacted_text STRING>,
    error STRING,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.ai.pii',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.ai.insights: one AgentResult per insights call.
CREATE TABLE IF NOT EXISTS insights_results (
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    message_id STRING,
    agent STRING,
    status STRING,
    provider STRING,
    model STRING,
    prompt_version STRING,
    prompt_hash STRING,
    latency_ms BIGINT,
    attempts INT,
    `usage` ROW<prompt_tokens BIGINT, completion_tokens BIGINT>,
    `result` ROW<
        intent STRING,
        urgency STRING,
        suggested_actions ARRAY<STRING>,
        requires_escalation BOOLEAN,
        topics ARRAY<STRING>,
        confidence DOUBLE>,
    error STRING,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.ai.insights',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.ai.summary: one AgentResult per summary call.
CREATE TABLE IF NOT EXISTS summary_results (
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    message_id STRING,
    agent STRING,
    status STRING,
    provider STRING,
    model STRING,
    prompt_version STRING,
    prompt_hash STRING,
    latency_ms BIGINT,
    attempts INT,
    `usage` ROW<prompt_tokens BIGINT, completion_tokens BIGINT>,
    `result` ROW<summary STRING, key_points ARRAY<STRING>, resolution_status STRING>,
    error STRING,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.ai.summary',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.ai.aggregated (compacted): one record per (conversation, version). Read as an
-- append stream, so every version that compaction has not removed yet is a row.
CREATE TABLE IF NOT EXISTS aggregated (
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    sentiment ROW<label STRING, score DOUBLE, confidence DOUBLE, emotion STRING, reasoning STRING>,
    pii ROW<
        has_pii BOOLEAN,
        entities ARRAY<ROW<`type` STRING, `start` INT, `end` INT, score DOUBLE>>,
        redacted_text STRING>,
    insights ROW<
        intent STRING,
        urgency STRING,
        suggested_actions ARRAY<STRING>,
        requires_escalation BOOLEAN,
        topics ARRAY<STRING>,
        confidence DOUBLE>,
    summary ROW<summary STRING, key_points ARRAY<STRING>, resolution_status STRING>,
    -- Every agent's newest answer by agent name, custom agents included, each as JSON text:
    -- JSON_VALUE(agents['churn_risk'], '$.risk').
    agents MAP<STRING, STRING>,
    complete BOOLEAN,
    missing_agents ARRAY<STRING>,
    agent_status MAP<STRING, STRING>,
    source_message_ids ARRAY<STRING>,
    last_updated TIMESTAMP_LTZ(3),
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.ai.aggregated',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.lineage: one provenance record per aggregated output.
CREATE TABLE IF NOT EXISTS lineage (
    event_id STRING,
    event_type STRING,
    tenant_id STRING,
    `timestamp` TIMESTAMP_LTZ(3),
    source STRING,
    data ROW<
        output ROW<topic STRING, key STRING, version BIGINT>,
        inputs ARRAY<ROW<topic STRING, `partition` INT, `offset` BIGINT, message_id STRING, version BIGINT>>,
        agents MAP<STRING, ROW<
            version BIGINT, provider STRING, model STRING, prompt_version STRING,
            prompt_hash STRING, attempts INT, latency_ms BIGINT, prompt_tokens BIGINT,
            completion_tokens BIGINT, status STRING>>>,
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.lineage',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.dlq: rejected input with the reason (`error_type`) and where it came from.
CREATE TABLE IF NOT EXISTS dead_letters (
    stage STRING,
    error_type STRING,
    error_message STRING,
    source ROW<topic STRING, `partition` INT, `offset` BIGINT>,
    tenant_id STRING,
    original STRING,
    original_encoding STRING,
    `timestamp` TIMESTAMP_LTZ(3),
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.dlq',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.alerts: one record per real-time alert (an episode of escalation_requested,
-- sentiment_deteriorating, critical_urgency, pii_shared or reply_overdue), raised by the job on
-- the aggregated record of `version`. alert_id is deterministic (the webhooks' idempotency key).
-- created_at is when the job raised it (processing time), the rowtime.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id STRING,
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    `type` STRING,
    severity STRING,
    reason STRING,
    evidence ROW<message_ids ARRAY<STRING>, versions ARRAY<BIGINT>>,
    created_at TIMESTAMP_LTZ(3),
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR created_at AS created_at - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.alerts',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.feedback: human corrections of agent answers (input of the job and of POST
-- /v1/feedback). `expected` is any JSON scalar, read as its text ("negative", "0.4", "true").
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id STRING,
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    agent STRING,
    field STRING,
    expected STRING,
    user_id STRING,
    `comment` STRING,
    `timestamp` TIMESTAMP_LTZ(3),
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    event_time AS COALESCE(`timestamp`, ts),
    WATERMARK FOR event_time AS event_time - INTERVAL '1' MINUTE
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.feedback',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- support.learning-signals: one record per correction joined with the agent answer it judges.
-- `predicted` and `expected` are JSON values read as their text; `timestamp` is when the
-- correction was made, the rowtime.
CREATE TABLE IF NOT EXISTS learning_signals (
    signal_id STRING,
    tenant_id STRING,
    conversation_id STRING,
    version BIGINT,
    agent STRING,
    field STRING,
    predicted STRING,
    expected STRING,
    agreed BOOLEAN,
    provider STRING,
    model STRING,
    prompt_version STRING,
    prompt_hash STRING,
    feedback_id STRING,
    user_id STRING,
    `timestamp` TIMESTAMP_LTZ(3),
    ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR `timestamp` AS `timestamp` - INTERVAL '1' MINUTE
) WITH (
    'connector' = 'kafka',
    'topic' = 'support.learning-signals',
    'properties.bootstrap.servers' = '${bootstrap.servers}',
    'properties.group.id' = '${group.id:signalstream-sql}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${scan.startup.mode:earliest-offset}',
    'scan.bounded.mode' = '${scan.bounded.mode:latest-offset}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true',
    'json.timestamp-format.standard' = 'ISO-8601'
);

-- Every agent's results with the columns they share: status, cost and latency per call.
CREATE VIEW IF NOT EXISTS agent_results AS
SELECT tenant_id, conversation_id, version, message_id, agent, status, provider, model,
       latency_ms, attempts, `usage`.prompt_tokens AS prompt_tokens,
       `usage`.completion_tokens AS completion_tokens, error, ts
FROM sentiment_results
UNION ALL
SELECT tenant_id, conversation_id, version, message_id, agent, status, provider, model,
       latency_ms, attempts, `usage`.prompt_tokens, `usage`.completion_tokens, error, ts
FROM pii_results
UNION ALL
SELECT tenant_id, conversation_id, version, message_id, agent, status, provider, model,
       latency_ms, attempts, `usage`.prompt_tokens, `usage`.completion_tokens, error, ts
FROM insights_results
UNION ALL
SELECT tenant_id, conversation_id, version, message_id, agent, status, provider, model,
       latency_ms, attempts, `usage`.prompt_tokens, `usage`.completion_tokens, error, ts
FROM summary_results;

-- Sentiment answers, flat.
CREATE VIEW IF NOT EXISTS sentiment AS
SELECT tenant_id, conversation_id, version, message_id, status,
       `result`.label AS label, `result`.score AS score, `result`.confidence AS confidence,
       `result`.emotion AS emotion, ts
FROM sentiment_results;

-- Insights answers, flat.
CREATE VIEW IF NOT EXISTS insights AS
SELECT tenant_id, conversation_id, version, message_id, status,
       `result`.intent AS intent, `result`.urgency AS urgency,
       `result`.requires_escalation AS requires_escalation,
       `result`.suggested_actions AS suggested_actions, `result`.topics AS topics,
       `result`.confidence AS confidence, ts
FROM insights_results;

-- One row per PII entity the pii agent found (a message with two e-mail addresses is two rows).
CREATE VIEW IF NOT EXISTS pii_entities AS
SELECT p.tenant_id, p.conversation_id, p.version, p.message_id,
       e.`type` AS pii_type, e.`start` AS start_offset, e.`end` AS end_offset, e.score, p.ts
FROM pii_results AS p
CROSS JOIN UNNEST(p.`result`.entities) AS e (`type`, `start`, `end`, score);

-- The aggregated intelligence of every (conversation, version), flat.
CREATE VIEW IF NOT EXISTS intelligence AS
SELECT tenant_id, conversation_id, version, complete,
       sentiment.label AS sentiment_label, sentiment.score AS sentiment_score,
       sentiment.emotion AS emotion,
       pii.has_pii AS has_pii, CARDINALITY(pii.entities) AS pii_entities,
       insights.intent AS intent, insights.urgency AS urgency,
       insights.requires_escalation AS requires_escalation,
       summary.summary AS summary, summary.resolution_status AS resolution_status,
       missing_agents, agent_status, source_message_ids, last_updated, ts
FROM aggregated;

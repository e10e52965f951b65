-- SQL functions built on the job's local analyzers (module udfs, package io.signalstream.sql).
-- They run in the SQL job itself, deterministic and offline, on any text column:
--   SELECT REDACT_PII(message), PII_TYPES(message), SENTIMENT_LABEL(message) FROM messages;
-- The classes must be on the classpath: they are in jobs/local/target/signalstream.jar and in
-- the cluster jar jobs/target/signalstream-job.jar.

-- The text with each PII finding replaced by a typed placeholder, e.g. <EMAIL_ADDRESS_1>.
CREATE FUNCTION IF NOT EXISTS REDACT_PII AS 'io.signalstream.sql.RedactPii' LANGUAGE JAVA;

-- Distinct PII types found in the text, ARRAY<STRING> (empty when none).
CREATE FUNCTION IF NOT EXISTS PII_TYPES AS 'io.signalstream.sql.PiiTypes' LANGUAGE JAVA;

-- Table function: one row (pii_type, start_offset, end_offset, score) per PII finding.
CREATE FUNCTION IF NOT EXISTS PII_ENTITIES AS 'io.signalstream.sql.PiiEntities' LANGUAGE JAVA;

-- positive / neutral / negative (VADER, the sentiment agent's thresholds).
CREATE FUNCTION IF NOT EXISTS SENTIMENT_LABEL AS 'io.signalstream.sql.SentimentLabel' LANGUAGE JAVA;

-- VADER compound score in [-1, 1].
CREATE FUNCTION IF NOT EXISTS SENTIMENT_SCORE AS 'io.signalstream.sql.SentimentScore' LANGUAGE JAVA;

-- Intent of one customer message by the insights keyword rules, e.g. refund_request.
CREATE FUNCTION IF NOT EXISTS INTENT AS 'io.signalstream.sql.Intent' LANGUAGE JAVA;

-- Urgency of one customer message by the insights rules: low / medium / high / critical.
CREATE FUNCTION IF NOT EXISTS URGENCY AS 'io.signalstream.sql.Urgency' LANGUAGE JAVA;

-- Negative sentiment per tenant in tumbling windows: for each window of
-- ${window.minutes:1} minute(s) and each tenant, how many customer messages the sentiment agent
-- labelled, how many of them negative, and their average score. A tenant whose negative count
-- jumps from one window to the next had a spike.
-- Time: when the sentiment result was written (Kafka record time of support.ai.sentiment).
SELECT
    window_start,
    window_end,
    tenant_id,
    COUNT(*) AS labelled,
    COUNT(*) FILTER (WHERE label = 'negative') AS negative,
    ROUND(AVG(score), 3) AS avg_score
FROM TABLE(
    TUMBLE(TABLE sentiment, DESCRIPTOR(ts), INTERVAL '${window.minutes:1}' MINUTE))
WHERE label IS NOT NULL
GROUP BY window_start, window_end, tenant_id
HAVING COUNT(*) FILTER (WHERE label = 'negative') > 0
ORDER BY window_start, negative DESC, tenant_id;

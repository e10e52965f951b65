-- Agent latency percentiles: per agent and provider, the median, 95th and 99th percentile and
-- the maximum of latency_ms (the whole call: retries and fallback included). PERCENTILE
-- interpolates linearly between the two nearest calls.
SELECT
    agent,
    provider,
    COUNT(*) AS calls,
    ROUND(PERCENTILE(latency_ms, 0.5), 1) AS p50_ms,
    ROUND(PERCENTILE(latency_ms, 0.95), 1) AS p95_ms,
    ROUND(PERCENTILE(latency_ms, 0.99), 1) AS p99_ms,
    MAX(latency_ms) AS max_ms
FROM agent_results
GROUP BY agent, provider
ORDER BY agent, provider;

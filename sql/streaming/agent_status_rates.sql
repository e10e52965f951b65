-- Continuous version of queries/04_agent_status_rates.sql, for `sql --unbounded` and the
-- signalstream-sql deployment: per agent, calls by status and the fallback, failure and
-- timeout rates, updated as results arrive (a changelog: -U/+U rows). No ORDER BY: a
-- streaming query cannot sort on an updating column.
SELECT
    agent,
    COUNT(*) AS calls,
    COUNT(*) FILTER (WHERE status = 'ok') AS ok,
    COUNT(*) FILTER (WHERE status = 'fallback') AS fallback,
    COUNT(*) FILTER (WHERE status = 'failed') AS failed,
    COUNT(*) FILTER (WHERE status = 'timeout') AS timed_out,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'fallback') / COUNT(*), 2) AS fallback_pct,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'failed') / COUNT(*), 2) AS failed_pct,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'timeout') / COUNT(*), 2) AS timeout_pct
FROM agent_results
GROUP BY agent;

-- Agent failure, timeout and fallback rates: per agent, how many calls ended in each status
-- and the share (in %) of failed, timed-out and fallback answers, with the average number of
-- attempts. Which agent times out? Which provider falls back?
SELECT
    agent,
    COUNT(*) AS calls,
    COUNT(*) FILTER (WHERE status = 'ok') AS ok,
    COUNT(*) FILTER (WHERE status = 'fallback') AS fallback,
    COUNT(*) FILTER (WHERE status = 'failed') AS failed,
    COUNT(*) FILTER (WHERE status = 'timeout') AS timed_out,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'fallback') / COUNT(*), 2) AS fallback_pct,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'failed') / COUNT(*), 2) AS failed_pct,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'timeout') / COUNT(*), 2) AS timeout_pct,
    ROUND(AVG(CAST(attempts AS DOUBLE)), 2) AS avg_attempts
FROM agent_results
GROUP BY agent
ORDER BY agent;

-- Agent accuracy by prompt version: from the learning signals (human corrections joined with
-- the answers they judge), per agent, provider, model and prompt version, how many answers were
-- judged, how many the humans agreed with, the accuracy in %, by how many reviewers and for how
-- many tenants, and when the first and the last correction were made. Did the new prompt help?
SELECT
    agent,
    provider,
    model,
    prompt_version,
    COUNT(*) AS judged,
    COUNT(*) FILTER (WHERE agreed) AS agreed,
    ROUND(100.0 * COUNT(*) FILTER (WHERE agreed) / COUNT(*), 2) AS accuracy_pct,
    COUNT(DISTINCT user_id) AS reviewers,
    COUNT(DISTINCT tenant_id) AS tenants,
    MIN(`timestamp`) AS first_feedback,
    MAX(`timestamp`) AS last_feedback
FROM learning_signals
GROUP BY agent, provider, model, prompt_version
ORDER BY agent, provider, model, prompt_version;

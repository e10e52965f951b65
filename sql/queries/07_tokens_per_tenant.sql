-- Tokens spent per tenant (cost): LLM calls, prompt and completion tokens and an estimated
-- cost in USD at ${usd.per.1k.prompt.tokens:0.00015} per 1,000 prompt tokens and
-- ${usd.per.1k.completion.tokens:0.0006} per 1,000 completion tokens (set both with --var). Calls
-- answered by the local analyzers (provider local) cost nothing and count as local_calls.
SELECT
    tenant_id,
    COUNT(*) FILTER (WHERE provider <> 'local') AS llm_calls,
    COUNT(*) FILTER (WHERE provider = 'local') AS local_calls,
    SUM(prompt_tokens) AS prompt_tokens,
    SUM(completion_tokens) AS completion_tokens,
    SUM(prompt_tokens + completion_tokens) AS total_tokens,
    ROUND(
        SUM(prompt_tokens) / 1000.0 * ${usd.per.1k.prompt.tokens:0.00015}
            + SUM(completion_tokens) / 1000.0 * ${usd.per.1k.completion.tokens:0.0006},
        6) AS est_cost_usd
FROM agent_results
GROUP BY tenant_id
ORDER BY total_tokens DESC, tenant_id;

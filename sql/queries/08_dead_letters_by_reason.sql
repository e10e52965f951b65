-- Dead letters by reason: how many input records the job rejected, per pipeline stage and
-- reason (error_type), for how many tenants (when the record named one), and when the first
-- and the last of them were rejected.
SELECT
    stage,
    error_type,
    COUNT(*) AS dead_letters,
    COUNT(DISTINCT tenant_id) AS tenants,
    MIN(`timestamp`) AS first_seen,
    MAX(`timestamp`) AS last_seen
FROM dead_letters
GROUP BY stage, error_type
ORDER BY dead_letters DESC, stage, error_type;

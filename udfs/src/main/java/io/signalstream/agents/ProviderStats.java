package io.signalstream.agents;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one agent provider in this JVM: requests, outcomes, cache use, tokens. Every agent
 * operator subtask and provider instance of the JVM that uses the provider name shares one instance
 * ({@link #of}); the counters outlive the providers, so reports can read them after a job ended.
 * Values are plain counts (tokens as reported by the provider), except {@link #warmupMs}.
 */
public final class ProviderStats {

    private static final Map<String, ProviderStats> STATS = new ConcurrentHashMap<>();

    /** The counters of a provider in this JVM, created on first use. */
    public static ProviderStats of(String provider) {
        return STATS.computeIfAbsent(provider, p -> new ProviderStats());
    }

    /** The counters of every provider used in this JVM, by provider name then counter name. */
    public static Map<String, Map<String, Long>> all() {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        STATS.forEach((k, v) -> out.put(k, v.snapshot()));
        return out;
    }

    /** HTTP requests sent. */
    public final AtomicLong requests = new AtomicLong();

    /** Calls answered from the cache (no request). */
    public final AtomicLong cacheHits = new AtomicLong();

    /** Calls not found in the cache. */
    public final AtomicLong cacheMisses = new AtomicLong();

    /** Retries after a retryable failure. */
    public final AtomicLong retries = new AtomicLong();

    /** Repair requests after an answer that broke the schema. */
    public final AtomicLong repairs = new AtomicLong();

    /** Calls that ended without a valid answer. */
    public final AtomicLong failures = new AtomicLong();

    /** Calls answered by the fallback provider instead. */
    public final AtomicLong fallbacks = new AtomicLong();

    /** Calls refused because the circuit was open. */
    public final AtomicLong circuitRejections = new AtomicLong();

    /** Prompt tokens reported by the provider. */
    public final AtomicLong promptTokens = new AtomicLong();

    /** Completion tokens reported by the provider. */
    public final AtomicLong completionTokens = new AtomicLong();

    /** Answers appended to the durable response log (acknowledged by Kafka). */
    public final AtomicLong responseLogAppends = new AtomicLong();

    /** Answers that could not be appended to the response log (the calls were not affected). */
    public final AtomicLong responseLogAppendFailures = new AtomicLong();

    /** Answers loaded into the cache from the response log when the runtime started. */
    public final AtomicLong warmupRecords = new AtomicLong();

    /** Response-log records older than the cache TTL, not loaded by the warm-up. */
    public final AtomicLong warmupExpired = new AtomicLong();

    /** Tombstones and malformed response-log records skipped by the warm-up. */
    public final AtomicLong warmupSkipped = new AtomicLong();

    /** Wall time of the last warm-up in milliseconds (a value, not a sum). */
    public final AtomicLong warmupMs = new AtomicLong();

    /** The counters by name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new TreeMap<>();
        m.put("requests", requests.get());
        m.put("cache_hits", cacheHits.get());
        m.put("cache_misses", cacheMisses.get());
        m.put("retries", retries.get());
        m.put("repairs", repairs.get());
        m.put("failures", failures.get());
        m.put("fallbacks", fallbacks.get());
        m.put("circuit_rejections", circuitRejections.get());
        m.put("prompt_tokens", promptTokens.get());
        m.put("completion_tokens", completionTokens.get());
        m.put("response_log_appends", responseLogAppends.get());
        m.put("response_log_append_failures", responseLogAppendFailures.get());
        m.put("warmup_records", warmupRecords.get());
        m.put("warmup_expired", warmupExpired.get());
        m.put("warmup_skipped", warmupSkipped.get());
        m.put("warmup_ms", warmupMs.get());
        return m;
    }

    /** Resets every counter (tests and benchmarks). */
    public void reset() {
        for (AtomicLong c :
                new AtomicLong[] {
                    requests,
                    cacheHits,
                    cacheMisses,
                    retries,
                    repairs,
                    failures,
                    fallbacks,
                    circuitRejections,
                    promptTokens,
                    completionTokens,
                    responseLogAppends,
                    responseLogAppendFailures,
                    warmupRecords,
                    warmupExpired,
                    warmupSkipped,
                    warmupMs
                }) {
            c.set(0);
        }
    }
}

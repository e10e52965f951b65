package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;

import org.apache.flink.streaming.api.functions.async.AsyncRetryPredicate;
import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Retries an agent call whose result is {@code failed} (or whose future failed) with jittered
 * exponential backoff computed from the attempt number alone: {@code delay(n) = random in [cap/2,
 * cap]} with {@code cap = min(maxBackoff, initial × 2^(n-1))} ("equal jitter", AWS Architecture
 * Blog, "Exponential Backoff And Jitter", 2015).
 *
 * <p>Unlike Flink's {@code ExponentialBackoffDelayRetryStrategy}, it keeps no mutable delay shared
 * by all records: every record's backoff depends only on its own attempt count.
 */
public final class JitteredBackoffRetryStrategy implements AsyncRetryStrategy<AgentResult> {

    private static final long serialVersionUID = 1L;

    private final int maxAttempts;
    private final long initialBackoffMs;
    private final long maxBackoffMs;

    /**
     * @param maxAttempts attempts in total, the first included (1 = no retry)
     * @param initialBackoffMs backoff before the first retry, in milliseconds
     * @param maxBackoffMs upper bound of any backoff, in milliseconds
     */
    public JitteredBackoffRetryStrategy(int maxAttempts, long initialBackoffMs, long maxBackoffMs) {
        if (maxAttempts < 1 || initialBackoffMs < 0 || maxBackoffMs < initialBackoffMs) {
            throw new IllegalArgumentException("invalid retry settings");
        }
        this.maxAttempts = maxAttempts;
        this.initialBackoffMs = initialBackoffMs;
        this.maxBackoffMs = maxBackoffMs;
    }

    /** {@code currentAttempts} is the number of attempts already made. */
    @Override
    public boolean canRetry(int currentAttempts) {
        return currentAttempts < maxAttempts;
    }

    /** The backoff after {@code currentAttempts} attempts, in milliseconds. */
    @Override
    public long getBackoffTimeMillis(int currentAttempts) {
        return equalJitterMs(initialBackoffMs, maxBackoffMs, currentAttempts);
    }

    /**
     * Milliseconds to wait from a {@code Retry-After} header: delta-seconds or an HTTP date (RFC
     * 9110 §10.2.3); 0 when absent or unreadable. Used by the LLM provider and the alert webhooks.
     */
    public static long retryAfterMs(String header) {
        if (header == null || header.isBlank()) {
            return 0;
        }
        String h = header.strip();
        try {
            return Math.max(0, (long) (Double.parseDouble(h) * 1000));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, when.toInstant().toEpochMilli() - System.currentTimeMillis());
            } catch (RuntimeException e2) {
                return 0;
            }
        }
    }

    /**
     * Equal-jitter exponential backoff: a random delay in [cap/2, cap] with {@code cap = min(maxMs,
     * initialMs × 2^(attemptsMade-1))}; also used by the LLM provider's own retries.
     *
     * @param initialMs backoff before the first retry, in milliseconds
     * @param maxMs upper bound, in milliseconds
     * @param attemptsMade attempts already made (1 before the first retry)
     */
    public static long equalJitterMs(long initialMs, long maxMs, int attemptsMade) {
        long cap = maxMs;
        int shift = Math.max(0, attemptsMade - 1);
        if (shift < 31) {
            cap = Math.min(maxMs, initialMs << shift);
        }
        long half = cap / 2;
        return half + ThreadLocalRandom.current().nextLong(cap - half + 1);
    }

    @Override
    public AsyncRetryPredicate<AgentResult> getRetryPredicate() {
        return new AsyncRetryPredicate<>() {
            @Override
            public Optional<Predicate<Collection<AgentResult>>> resultPredicate() {
                return Optional.of(
                        results ->
                                results.stream()
                                        .anyMatch(r -> AgentStatus.FAILED.equals(r.status())));
            }

            @Override
            public Optional<Predicate<Throwable>> exceptionPredicate() {
                return Optional.of(t -> true);
            }
        };
    }
}

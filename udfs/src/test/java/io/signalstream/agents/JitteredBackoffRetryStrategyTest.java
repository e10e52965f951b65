package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.Usage;

import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JitteredBackoffRetryStrategyTest {

    private static final int SAMPLES = 2_000;

    private static AgentResult result(String status) {
        return new AgentResult(
                "AdobeCare",
                "btl6ofX5a6TSNB3b3rkV",
                1,
                "m-1",
                "sentiment",
                status,
                "local",
                null,
                null,
                null,
                0,
                1,
                Usage.NONE,
                Map.of(),
                null);
    }

    @Test
    void canRetryUntilMaxAttemptsWereMade() {
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(3, 200, 3000);

        assertThat(s.canRetry(0)).isTrue();
        assertThat(s.canRetry(1)).isTrue();
        assertThat(s.canRetry(2)).isTrue();
        assertThat(s.canRetry(3)).isFalse();
        assertThat(s.canRetry(4)).isFalse();
    }

    @Test
    void oneAttemptMeansNoRetry() {
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(1, 200, 3000);

        assertThat(s.canRetry(1)).isFalse();
    }

    @Test
    void backoffLiesBetweenHalfTheCapAndTheCap() {
        long initial = 200;
        long max = 3000;
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(10, initial, max);

        for (int attempt = 1; attempt <= 8; attempt++) {
            long cap = Math.min(max, initial * (1L << (attempt - 1)));
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            for (int i = 0; i < SAMPLES; i++) {
                long b = s.getBackoffTimeMillis(attempt);
                assertThat(b).as("attempt %d", attempt).isBetween(cap / 2, cap);
                lo = Math.min(lo, b);
                hi = Math.max(hi, b);
            }
            // it is jittered: the samples spread over the range, not one fixed value
            assertThat(hi - lo).as("spread at attempt %d", attempt).isGreaterThan(cap / 4);
        }
    }

    @Test
    void backoffDoublesPerAttemptUntilTheMax() {
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(10, 100, 1000);

        // the lowest possible value of attempt n is cap(n)/2: 50, 100, 200, 400, 500, 500
        long[] caps = {100, 200, 400, 800, 1000, 1000};
        for (int n = 1; n <= caps.length; n++) {
            long min = Long.MAX_VALUE;
            for (int i = 0; i < SAMPLES; i++) {
                min = Math.min(min, s.getBackoffTimeMillis(n));
            }
            assertThat(min)
                    .as("attempt %d", n)
                    .isBetween(caps[n - 1] / 2, caps[n - 1] / 2 + caps[n - 1] / 10);
        }
    }

    @Test
    void backoffNeverExceedsTheMaxForLargeAttempts() {
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(100, 200, 3000);

        for (int attempt : new int[] {30, 31, 32, 40, 63, 64, 65, 1000, Integer.MAX_VALUE}) {
            for (int i = 0; i < 200; i++) {
                assertThat(s.getBackoffTimeMillis(attempt))
                        .as("attempt %d", attempt)
                        .isBetween(1500L, 3000L);
            }
        }
    }

    @Test
    void zeroInitialBackoffRetriesAtOnce() {
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(3, 0, 0);

        assertThat(s.getBackoffTimeMillis(1)).isZero();
        assertThat(s.getBackoffTimeMillis(2)).isZero();
    }

    @Test
    void backoffOfOneAttemptIsNotAlwaysTheSame() {
        JitteredBackoffRetryStrategy s = new JitteredBackoffRetryStrategy(3, 1000, 1000);
        Set<Long> seen = new HashSet<>();

        for (int i = 0; i < 200; i++) {
            seen.add(s.getBackoffTimeMillis(1));
        }

        assertThat(seen).hasSizeGreaterThan(10);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThatThrownBy(() -> new JitteredBackoffRetryStrategy(0, 100, 1000))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new JitteredBackoffRetryStrategy(3, -1, 1000))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new JitteredBackoffRetryStrategy(3, 2000, 1000))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void resultPredicateRetriesFailedResultsOnly() {
        Predicate<Collection<AgentResult>> p =
                new JitteredBackoffRetryStrategy(3, 200, 3000)
                        .getRetryPredicate()
                        .resultPredicate()
                        .orElseThrow();

        assertThat(p.test(List.of(result(AgentStatus.FAILED)))).isTrue();
        assertThat(p.test(List.of(result(AgentStatus.OK)))).isFalse();
        assertThat(p.test(List.of(result(AgentStatus.FALLBACK)))).isFalse();
        assertThat(p.test(List.of(result(AgentStatus.TIMEOUT)))).isFalse();
        assertThat(p.test(List.of(result(AgentStatus.SKIPPED)))).isFalse();
        assertThat(p.test(List.of(result(AgentStatus.OK), result(AgentStatus.FAILED)))).isTrue();
        assertThat(p.test(List.of())).isFalse();
    }

    @Test
    void exceptionPredicateRetriesAnyException() {
        Predicate<Throwable> p =
                new JitteredBackoffRetryStrategy(3, 200, 3000)
                        .getRetryPredicate()
                        .exceptionPredicate()
                        .orElseThrow();

        assertThat(p.test(new TimeoutException("slow"))).isTrue();
        assertThat(p.test(new IllegalStateException("boom"))).isTrue();
    }
}

package io.signalstream.llm;

import io.signalstream.llm.CircuitBreaker.State;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CircuitBreakerTest {

    private static final Duration COOL_DOWN = Duration.ofSeconds(30);
    private static final long COOL_DOWN_NANOS = COOL_DOWN.toNanos();

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private CircuitBreaker breaker(int threshold) {
        return new CircuitBreaker(threshold, COOL_DOWN, clock::get);
    }

    private void fail(CircuitBreaker b, int times) {
        for (int i = 0; i < times; i++) {
            b.onFailure();
        }
    }

    @Test
    void startsClosedAndAllowsRequests() {
        CircuitBreaker b = breaker(3);

        assertThat(b.state()).isEqualTo(State.CLOSED);
        for (int i = 0; i < 100; i++) {
            assertThat(b.allowRequest()).isTrue();
        }
        assertThat(b.opened()).isZero();
    }

    @Test
    void opensAfterThresholdConsecutiveFailures() {
        CircuitBreaker b = breaker(3);

        fail(b, 2);
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.allowRequest()).isTrue();

        b.onFailure();
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.opened()).isEqualTo(1);
    }

    @Test
    void thresholdOfOneOpensOnFirstFailure() {
        CircuitBreaker b = breaker(1);

        b.onFailure();

        assertThat(b.state()).isEqualTo(State.OPEN);
    }

    @Test
    void successResetsTheConsecutiveFailureCount() {
        CircuitBreaker b = breaker(3);

        fail(b, 2);
        b.onSuccess();
        fail(b, 2);

        assertThat(b.state()).isEqualTo(State.CLOSED);
        b.onFailure();
        assertThat(b.state()).isEqualTo(State.OPEN);
    }

    @Test
    void openRejectsUntilTheCoolDownHasPassed() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);

        assertThat(b.allowRequest()).isFalse();
        clock.addAndGet(COOL_DOWN_NANOS - 1);
        assertThat(b.allowRequest()).isFalse();
        assertThat(b.state()).isEqualTo(State.OPEN);
    }

    @Test
    void afterTheCoolDownExactlyOneProbeIsLetThrough() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);
        clock.addAndGet(COOL_DOWN_NANOS);

        assertThat(b.allowRequest()).isTrue();
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
        for (int i = 0; i < 50; i++) {
            clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100)); // 5 s < cool-down
            assertThat(b.allowRequest()).isFalse();
        }
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    }

    @Test
    void probeSuccessCloses() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);
        clock.addAndGet(COOL_DOWN_NANOS);
        assertThat(b.allowRequest()).isTrue();

        b.onSuccess();

        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.allowRequest()).isTrue();
        assertThat(b.allowRequest()).isTrue();
        // the failure count restarts from zero
        b.onFailure();
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.opened()).isEqualTo(1);
    }

    @Test
    void probeFailureReopensWithANewCoolDown() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);
        clock.addAndGet(COOL_DOWN_NANOS);
        assertThat(b.allowRequest()).isTrue();
        clock.addAndGet(TimeUnit.SECONDS.toNanos(10)); // the probe takes 10 s to fail

        b.onFailure();

        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.opened()).isEqualTo(2);
        clock.addAndGet(COOL_DOWN_NANOS - 1); // counted from the probe's failure
        assertThat(b.allowRequest()).isFalse();
        clock.addAndGet(1);
        assertThat(b.allowRequest()).isTrue();
        assertThat(b.allowRequest()).isFalse();
    }

    @Test
    void lostProbeIsReplacedAfterAnotherCoolDown() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);
        clock.addAndGet(COOL_DOWN_NANOS);
        assertThat(b.allowRequest()).isTrue(); // probe 1, never reported

        clock.addAndGet(COOL_DOWN_NANOS - 1);
        assertThat(b.allowRequest()).isFalse();
        clock.addAndGet(1);
        assertThat(b.allowRequest()).isTrue(); // probe 2
        assertThat(b.allowRequest()).isFalse();
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);

        b.onSuccess();
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.opened()).isEqualTo(1);
    }

    @Test
    void outcomesReportedWhileOpenAreIgnored() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);
        clock.addAndGet(COOL_DOWN_NANOS / 2);

        b.onSuccess(); // a late answer does not close it
        fail(b, 5); // late failures neither reopen nor extend the cool-down

        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.opened()).isEqualTo(1);
        clock.addAndGet(COOL_DOWN_NANOS - COOL_DOWN_NANOS / 2);
        assertThat(b.allowRequest()).isTrue();
    }

    @Test
    void openedCountsEveryOpening() {
        CircuitBreaker b = breaker(1);
        for (int i = 1; i <= 5; i++) {
            b.onFailure(); // CLOSED -> OPEN, or HALF_OPEN -> OPEN
            clock.addAndGet(COOL_DOWN_NANOS);
            assertThat(b.allowRequest()).isTrue();
            assertThat(b.opened()).isEqualTo(i);
        }
        b.onSuccess();
        b.onFailure();

        assertThat(b.opened()).isEqualTo(6);
    }

    @Test
    void rejectsInvalidSettings() {
        assertThatThrownBy(() -> new CircuitBreaker(0, COOL_DOWN, clock::get))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CircuitBreaker(1, Duration.ZERO, clock::get))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CircuitBreaker(1, Duration.ofSeconds(-1), clock::get))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CircuitBreaker(1, null, clock::get))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new CircuitBreaker(1, COOL_DOWN, null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void concurrentFailuresAreCountedWithoutLostUpdates() throws Exception {
        int threads = 8;
        int perThread = 999;
        CircuitBreaker b = breaker(threads * perThread + threads);

        runConcurrently(
                threads,
                () -> {
                    for (int i = 0; i < perThread; i++) {
                        b.allowRequest();
                        b.onFailure();
                    }
                });
        assertThat(b.state()).isEqualTo(State.CLOSED);

        runConcurrently(threads, b::onFailure);
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.opened()).isEqualTo(1);
    }

    @Test
    void concurrentFailuresOpenTheCircuitOnceAndExactlyOneRacingCallerProbes() throws Exception {
        CircuitBreaker b = breaker(5);

        runConcurrently(
                8,
                () -> {
                    for (int i = 0; i < 1_000; i++) {
                        b.allowRequest();
                        b.onFailure();
                    }
                });
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.opened()).isEqualTo(1);

        clock.addAndGet(COOL_DOWN_NANOS);
        AtomicInteger probes = new AtomicInteger();
        runConcurrently(
                16,
                () -> {
                    for (int i = 0; i < 100; i++) {
                        if (b.allowRequest()) {
                            probes.incrementAndGet();
                        }
                    }
                });

        assertThat(probes).hasValue(1);
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    }

    @Test
    void mixedConcurrentTrafficLeavesAWorkingBreaker() throws Exception {
        CircuitBreaker b = breaker(3);

        runConcurrently(
                8,
                () -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < 20_000; i++) {
                        if (random.nextInt(50) == 0) {
                            clock.addAndGet(COOL_DOWN_NANOS / 3);
                        }
                        if (b.allowRequest()) {
                            if (random.nextInt(4) == 0) {
                                b.onSuccess();
                            } else {
                                b.onFailure();
                            }
                        }
                    }
                });

        assertThat(b.opened()).isPositive();
        // Whatever state the storm left, the breaker still follows its state machine.
        if (b.state() != State.CLOSED) {
            clock.addAndGet(COOL_DOWN_NANOS);
            assertThat(b.allowRequest()).isTrue();
            assertThat(b.state()).isEqualTo(State.HALF_OPEN);
            assertThat(b.allowRequest()).isFalse();
            b.onSuccess();
        }
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.allowRequest()).isTrue();
    }

    private static void runConcurrently(int threads, Runnable body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(
                        pool.submit(
                                () -> {
                                    start.await();
                                    body.run();
                                    return null;
                                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

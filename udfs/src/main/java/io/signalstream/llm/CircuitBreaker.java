package io.signalstream.llm;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Circuit breaker for one LLM provider: after {@code failureThreshold} consecutive failures it
 * stops sending requests for {@code coolDown}, then lets exactly one probe through and closes again
 * only if the probe succeeds (M. Nygard, "Release It!", Pragmatic Bookshelf, 2007; M. Fowler,
 * "CircuitBreaker", martinfowler.com, 2014). The state machine is Resilience4j's ({@code
 * io.github.resilience4j.circuitbreaker}); this class configures it and adds two timing rules
 * Resilience4j does not have (see below).
 *
 * <pre>
 *   CLOSED --(failureThreshold consecutive failures)--> OPEN
 *   OPEN --(allowRequest() after coolDown: the probe)--> HALF_OPEN
 *   HALF_OPEN --(onSuccess)--> CLOSED
 *   HALF_OPEN --(onFailure)--> OPEN (new cool-down)
 *   HALF_OPEN --(allowRequest() a coolDown after an unreported probe)--> HALF_OPEN, new probe
 * </pre>
 *
 * <p>Resilience4j configuration: a COUNT_BASED sliding window of {@code failureThreshold} calls,
 * {@code minimumNumberOfCalls = failureThreshold} and a failure-rate threshold of 100 %, which
 * opens exactly when the last {@code failureThreshold} outcomes were all failures; one permitted
 * call in HALF_OPEN; no automatic OPEN → HALF_OPEN transition; the clock is {@code nanoClock}.
 *
 * <p>Kept here because Resilience4j does not express them: (1) the cool-down is measured in
 * nanoseconds and ends <em>at</em> {@code coolDown} (Resilience4j rounds its open wait to
 * milliseconds and lets a call through only strictly after it), so this class moves OPEN to
 * HALF_OPEN itself; (2) a probe whose outcome is never reported is replaced after another cool-down
 * (Resilience4j's {@code maxWaitDurationInHalfOpenState} runs on its own wall-clock timer and
 * reopens instead), by releasing the probe's permission.
 *
 * <p>Outcomes reported while OPEN (late answers to requests sent before the circuit opened) are
 * ignored: they neither close the circuit nor extend the cool-down. The breaker cannot tell the
 * probe's outcome from a late one while HALF_OPEN; the first outcome reported decides.
 *
 * <p>Thread-safe: every method is synchronized (so the two rules above see a consistent state) and
 * does O(1) work without blocking.
 */
public final class CircuitBreaker {

    /** The breaker's state. */
    public enum State {
        /** Requests flow; consecutive failures are counted. */
        CLOSED,
        /** Requests are rejected until the cool-down has passed. */
        OPEN,
        /** One probe is in flight; other requests are rejected until its outcome is reported. */
        HALF_OPEN
    }

    /** What a failure is reported to Resilience4j as (it needs a throwable). */
    private static final Exception FAILURE =
            new Exception("provider call failed", null, false, false) {
                private static final long serialVersionUID = 1L;
            };

    /** Resilience4j's own open wait is only a backstop (see the class comment); keep it sane. */
    private static final Duration MAX_LIBRARY_WAIT = Duration.ofDays(3650);

    private final long coolDownNanos;
    private final LongSupplier nanoClock;
    private final io.github.resilience4j.circuitbreaker.CircuitBreaker delegate;

    /** When the circuit last opened; written by the transition listener. */
    private long openedAt;

    /** When the current HALF_OPEN probe was let through. */
    private long probeAt;

    private int opened;

    /**
     * Creates a closed breaker.
     *
     * @param failureThreshold consecutive failures that open the circuit, {@code >= 1}
     * @param coolDown how long it stays open before one probe is let through; positive
     * @param nanoClock monotonic time in nanoseconds: {@code System::nanoTime} in production, a
     *     fake in tests
     * @throws IllegalArgumentException if {@code failureThreshold < 1} or {@code coolDown} is not
     *     positive
     * @throws NullPointerException if {@code coolDown} or {@code nanoClock} is null
     */
    public CircuitBreaker(int failureThreshold, Duration coolDown, LongSupplier nanoClock) {
        Objects.requireNonNull(coolDown, "coolDown");
        if (failureThreshold < 1) {
            throw new IllegalArgumentException(
                    "failureThreshold must be >= 1: " + failureThreshold);
        }
        if (coolDown.isNegative() || coolDown.isZero()) {
            throw new IllegalArgumentException("coolDown must be positive: " + coolDown);
        }
        this.coolDownNanos = saturatedNanos(coolDown);
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        Duration libraryWait =
                coolDown.compareTo(MAX_LIBRARY_WAIT) > 0
                        ? MAX_LIBRARY_WAIT
                        : coolDown.compareTo(Duration.ofMillis(1)) < 0
                                ? Duration.ofMillis(1)
                                : coolDown;
        CircuitBreakerConfig config =
                CircuitBreakerConfig.custom()
                        .slidingWindowType(SlidingWindowType.COUNT_BASED)
                        .slidingWindowSize(failureThreshold)
                        .minimumNumberOfCalls(failureThreshold)
                        .failureRateThreshold(100)
                        .permittedNumberOfCallsInHalfOpenState(1)
                        .automaticTransitionFromOpenToHalfOpenEnabled(false)
                        .waitDurationInOpenState(libraryWait)
                        .writableStackTraceEnabled(false)
                        .clock(new NanoClock(nanoClock))
                        .build();
        this.delegate = io.github.resilience4j.circuitbreaker.CircuitBreaker.of("llm", config);
        // Listeners run synchronously in the thread that causes the transition, i.e. inside
        // one of this class's synchronized methods.
        delegate.getEventPublisher()
                .onStateTransition(
                        e -> {
                            if (e.getStateTransition().getToState()
                                    == io.github.resilience4j.circuitbreaker.CircuitBreaker.State
                                            .OPEN) {
                                openedAt = nanoClock.getAsLong();
                                opened++;
                            }
                        });
    }

    /**
     * Decides whether a request may be sent now. CLOSED: {@code true}. OPEN: {@code false} until
     * the cool-down has passed; then the state becomes HALF_OPEN and this caller gets {@code true}
     * (it is the probe). HALF_OPEN: {@code false} until the probe's outcome is reported, or, if it
     * never is, until another cool-down has passed, when one new probe gets {@code true}.
     *
     * @return whether the caller may send the request; a caller that got {@code true} must report
     *     the outcome with {@link #onSuccess()} or {@link #onFailure()}
     */
    public synchronized boolean allowRequest() {
        long now = nanoClock.getAsLong();
        State state = state();
        if (state == State.OPEN && now - openedAt >= coolDownNanos) {
            delegate.transitionToHalfOpenState();
        } else if (state == State.HALF_OPEN && now - probeAt >= coolDownNanos) {
            delegate.releasePermission(); // the lost probe's
        }
        boolean permitted = delegate.tryAcquirePermission();
        if (permitted && state() == State.HALF_OPEN) {
            probeAt = now;
        }
        return permitted;
    }

    /**
     * Reports a successful request: HALF_OPEN → CLOSED; CLOSED: resets the consecutive-failure
     * count; OPEN: ignored.
     */
    public synchronized void onSuccess() {
        delegate.onSuccess(0, TimeUnit.NANOSECONDS);
    }

    /**
     * Reports a failed request: CLOSED: counts it and opens the circuit at {@code failureThreshold}
     * consecutive failures; HALF_OPEN → OPEN with a new cool-down; OPEN: ignored.
     */
    public synchronized void onFailure() {
        delegate.onError(0, TimeUnit.NANOSECONDS, FAILURE);
    }

    /**
     * Returns the current state. The OPEN → HALF_OPEN transition happens in {@link
     * #allowRequest()}, so an expired OPEN circuit reads OPEN until the next request asks.
     *
     * @return the current state
     */
    public synchronized State state() {
        switch (delegate.getState()) {
            case CLOSED:
                return State.CLOSED;
            case HALF_OPEN:
                return State.HALF_OPEN;
            default:
                return State.OPEN; // OPEN; FORCED_OPEN, DISABLED, METRICS_ONLY are never used
        }
    }

    /**
     * Returns how many times the circuit has opened (CLOSED → OPEN and HALF_OPEN → OPEN).
     *
     * @return the number of openings since construction
     */
    public synchronized int opened() {
        return opened;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** A {@link Clock} reading a monotonic nanosecond counter as nanoseconds after the epoch. */
    private static final class NanoClock extends Clock {
        private final LongSupplier nanos;

        NanoClock(LongSupplier nanos) {
            this.nanos = nanos;
        }

        @Override
        public Instant instant() {
            return Instant.EPOCH.plusNanos(nanos.getAsLong());
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}

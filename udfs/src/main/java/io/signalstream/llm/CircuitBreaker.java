package io.signalstream.llm;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Circuit breaker for one LLM provider: after {@code failureThreshold} consecutive failures it
 * stops sending requests for {@code coolDown}, then lets exactly one probe through and closes
 * again only if the probe succeeds (M. Nygard, "Release It!", Pragmatic Bookshelf, 2007; M.
 * Fowler, "CircuitBreaker", martinfowler.com, 2014).
 *
 * <pre>
 *   CLOSED --(failureThreshold consecutive failures)--> OPEN
 *   OPEN --(allowRequest() after coolDown: the probe)--> HALF_OPEN
 *   HALF_OPEN --(onSuccess)--> CLOSED
 *   HALF_OPEN --(onFailure)--> OPEN (new cool-down)
 *   HALF_OPEN --(allowRequest() a coolDown after an unreported probe)--> HALF_OPEN, new probe
 * </pre>
 *
 * <p>Outcomes reported while OPEN (late answers to requests sent before the circuit opened) are
 * ignored: they neither close the circuit nor extend the cool-down. The breaker cannot tell the
 * probe's outcome from a late one while HALF_OPEN; the first outcome reported decides.
 *
 * <p>Thread-safe: every method is synchronized and does O(1) work without blocking.
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

    private final int failureThreshold;
    private final long coolDownNanos;
    private final LongSupplier nanoClock;

    private State state = State.CLOSED;
    private int consecutiveFailures;
    /** When the circuit last opened (OPEN) or the current probe was let through (HALF_OPEN). */
    private long since;
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
        this.failureThreshold = failureThreshold;
        this.coolDownNanos = saturatedNanos(coolDown);
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
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
        switch (state) {
            case CLOSED:
                return true;
            case OPEN:
            case HALF_OPEN: {
                long now = nanoClock.getAsLong();
                if (now - since >= coolDownNanos) {
                    state = State.HALF_OPEN;
                    since = now;
                    return true;
                }
                return false;
            }
            default:
                throw new AssertionError(state);
        }
    }

    /**
     * Reports a successful request: HALF_OPEN → CLOSED; CLOSED: resets the consecutive-failure
     * count; OPEN: ignored.
     */
    public synchronized void onSuccess() {
        if (state == State.HALF_OPEN) {
            state = State.CLOSED;
            consecutiveFailures = 0;
        } else if (state == State.CLOSED) {
            consecutiveFailures = 0;
        }
    }

    /**
     * Reports a failed request: CLOSED: counts it and opens the circuit at {@code
     * failureThreshold} consecutive failures; HALF_OPEN → OPEN with a new cool-down; OPEN:
     * ignored.
     */
    public synchronized void onFailure() {
        if (state == State.CLOSED) {
            consecutiveFailures++;
            if (consecutiveFailures >= failureThreshold) {
                open();
            }
        } else if (state == State.HALF_OPEN) {
            open();
        }
    }

    /**
     * Returns the current state. The OPEN → HALF_OPEN transition happens in {@link
     * #allowRequest()}, so an expired OPEN circuit reads OPEN until the next request asks.
     *
     * @return the current state
     */
    public synchronized State state() {
        return state;
    }

    /**
     * Returns how many times the circuit has opened (CLOSED → OPEN and HALF_OPEN → OPEN).
     *
     * @return the number of openings since construction
     */
    public synchronized int opened() {
        return opened;
    }

    private void open() {
        state = State.OPEN;
        since = nanoClock.getAsLong();
        consecutiveFailures = 0;
        opened++;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}

package io.signalstream.jobs.kafka;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for a condition on a Kafka cluster by asking it again and again (the Admin API has no way
 * to be told), shared by {@link KafkaTopics} and the local runtime's in-process broker.
 */
public final class Polling {

    /** Longest a single probe call may block, in milliseconds. */
    public static final long MAX_CALL_MILLIS = 5_000;

    /** Pause between two probes, in milliseconds. */
    public static final long PAUSE_MILLIS = 100;

    private Polling() {}

    /** One probe of the condition. */
    @FunctionalInterface
    public interface Probe {
        /**
         * @param deadlineNanos the {@link System#nanoTime()} deadline of the whole wait; bound each
         *     blocking call with {@link #callMillis(long)}
         * @return {@code null} when the condition holds, otherwise what is still missing
         */
        String missing(long deadlineNanos)
                throws ExecutionException, TimeoutException, InterruptedException;
    }

    /**
     * Runs {@code probe} every {@value #PAUSE_MILLIS} ms until it reports nothing missing. A probe
     * that fails with an {@link ExecutionException} or {@link TimeoutException} counts as "not
     * yet".
     *
     * @param deadlineNanos {@link System#nanoTime()} deadline
     * @param failure what the error message says did not happen
     * @param probe the condition
     * @throws IllegalStateException with {@code failure} and the last reason at the deadline, or
     *     when interrupted (the interrupt flag is kept)
     */
    public static void until(long deadlineNanos, String failure, Probe probe) {
        Object last = null;
        while (remainingMillis(deadlineNanos) > 0) {
            try {
                String missing = probe.missing(deadlineNanos);
                if (missing == null) {
                    return;
                }
                last = missing;
            } catch (ExecutionException e) {
                last = e.getCause();
            } catch (TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted: " + failure, e);
            }
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted: " + failure, e);
            }
        }
        throw new IllegalStateException(
                failure + "; last error: " + last, last instanceof Throwable t ? t : null);
    }

    /**
     * How long one blocking call may take: what is left of the wait, at most {@value
     * #MAX_CALL_MILLIS} ms and at least 1 ms.
     */
    public static long callMillis(long deadlineNanos) {
        return Math.max(1, Math.min(MAX_CALL_MILLIS, remainingMillis(deadlineNanos)));
    }

    /** Milliseconds until {@code deadlineNanos}, 0 when it has passed. */
    public static long remainingMillis(long deadlineNanos) {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }
}

package io.signalstream.llm;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;

/**
 * A semaphore whose {@link #acquire()} returns a future instead of blocking: the bound on requests
 * in flight to a provider, waited for without holding a thread.
 */
final class AsyncSemaphore {

    private final Queue<CompletableFuture<Void>> waiters = new ArrayDeque<>();
    private int available;

    /**
     * @param permits permits, at least 1
     */
    AsyncSemaphore(int permits) {
        this.available = Math.max(1, permits);
    }

    /** A future completed when a permit is held; complete {@link #release()} exactly once. */
    CompletableFuture<Void> acquire() {
        synchronized (this) {
            if (available > 0) {
                available--;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiters.add(f);
            return f;
        }
    }

    /** Returns a permit, handing it to the oldest waiter if any. */
    void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            next = waiters.poll();
            if (next == null) {
                available++;
                return;
            }
        }
        next.complete(null); // outside the lock: the waiter's continuation may run here
    }
}

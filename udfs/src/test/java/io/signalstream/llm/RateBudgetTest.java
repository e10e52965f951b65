package io.signalstream.llm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

class RateBudgetTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MINUTE = 60 * SECOND;

    private final AtomicLong clock = new AtomicLong(5 * SECOND);
    private final ManualScheduler scheduler = new ManualScheduler(clock);
    private final List<RateBudget> budgets = new ArrayList<>();

    @AfterEach
    void closeBudgets() {
        budgets.forEach(RateBudget::close);
    }

    private RateBudget budget(int rpm, long tpm, double share) {
        RateBudget b = new RateBudget(rpm, tpm, share, scheduler, clock::get);
        budgets.add(b);
        return b;
    }

    private static List<CompletableFuture<Void>> acquireMany(
            RateBudget b, String tenant, long tokens, int n) {
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(b.acquire(tenant, tokens));
        }
        return futures;
    }

    // ------------------------------------------------------------------ requests per minute

    @Test
    void grantsUpToTheLimitImmediatelyThenDefersOneRequestPerRefillInterval() {
        RateBudget b = budget(60, 0, 1.0);

        List<CompletableFuture<Void>> first = acquireMany(b, "t", 0, 60);
        assertThat(first).allMatch(CompletableFuture::isDone);
        assertThat(b.granted()).isEqualTo(60);

        CompletableFuture<Void> next = b.acquire("t", 0);
        CompletableFuture<Void> afterNext = b.acquire("t", 0);
        assertThat(next).isNotDone();
        assertThat(b.waiting()).isEqualTo(2);

        scheduler.advanceBy(SECOND - 1); // 60/limit s = 1 s per request
        assertThat(next).isNotDone();
        scheduler.advanceBy(1);
        assertThat(next).isCompleted();
        assertThat(afterNext).isNotDone();

        scheduler.advanceBy(SECOND);
        assertThat(afterNext).isCompleted();
        assertThat(b.granted()).isEqualTo(62);
        assertThat(b.waiting()).isZero();
        assertThat(scheduler.ran()).as("one wake-up per deferred grant, no polling").isEqualTo(2);
    }

    @Test
    void unlimitedBudgetsGrantEverythingAtOnce() {
        RateBudget b = budget(0, -1, 1.0);

        assertThat(acquireMany(b, "t", 1_000_000, 10_000)).allMatch(CompletableFuture::isDone);
        assertThat(b.granted()).isEqualTo(10_000);
        assertThat(scheduler.pending()).isZero();
    }

    /**
     * 10,000 requests arriving at random times at twice the 600 rpm limit. A token bucket of
     * capacity C refilling C per minute admits at most C (initial content) + C (refill) requests in
     * any 60-second window: that is the documented burst tolerance. Once the bucket is drained
     * (saturated steady state) a window holds at most the limit, +1 for the window's boundaries.
     */
    @Test
    void neverExceedsTheLimitInAnySlidingMinuteOverALongRun() {
        int rpm = 600;
        int total = 10_000;
        RateBudget b = budget(rpm, 0, 1.0);
        Random random = new Random(42);
        long start = clock.get();
        long[] grantTimes = new long[total];
        long[] arrivals = new long[total];
        long t = start;
        for (int i = 0; i < total; i++) {
            t += (long) (-Math.log(1 - random.nextDouble()) * (MINUTE / (2.0 * rpm)));
            arrivals[i] = t;
        }
        for (int i = 0; i < total; i++) {
            scheduler.advanceTo(arrivals[i]);
            int index = i;
            b.acquire("tenant-" + random.nextInt(5), 0)
                    .thenRun(() -> grantTimes[index] = clock.get());
        }
        scheduler.advanceBy(30 * MINUTE);

        assertThat(b.granted()).isEqualTo(total);
        assertThat(b.waiting()).isZero();
        long[] sorted = grantTimes.clone();
        Arrays.sort(sorted);
        int maxAnyWindow = maxInWindow(sorted, start, MINUTE);
        int maxSteadyWindow = maxInWindow(sorted, start + 2 * MINUTE, MINUTE);
        assertThat(maxAnyWindow).isLessThanOrEqualTo(rpm + rpm);
        assertThat(maxSteadyWindow).isLessThanOrEqualTo(rpm + 1);
        // long-run rate: the last grant is due when the bucket has refilled (total - C) requests
        double lastGrantMinutes = (sorted[total - 1] - start) / (double) MINUTE;
        assertThat(lastGrantMinutes).isCloseTo((total - rpm) / (double) rpm, offset(0.01));
        // schedule, don't poll: about one wake-up per deferred grant
        assertThat(scheduler.ran()).isLessThanOrEqualTo(total);
        System.out.printf(
                "RateBudget long run: max grants in any 60 s window %d,"
                        + " in steady-state windows %d, last grant after %.3f min,"
                        + " %d scheduler wake-ups for %d grants%n",
                maxAnyWindow, maxSteadyWindow, lastGrantMinutes, scheduler.ran(), total);
    }

    /** Most timestamps in a window [s, s + width), s >= from being one of the timestamps. */
    private static int maxInWindow(long[] sorted, long from, long width) {
        int max = 0;
        int hi = 0;
        for (int lo = 0; lo < sorted.length; lo++) {
            if (sorted[lo] < from) {
                continue;
            }
            hi = Math.max(hi, lo);
            while (hi < sorted.length && sorted[hi] < sorted[lo] + width) {
                hi++;
            }
            max = Math.max(max, hi - lo);
        }
        return max;
    }

    // ------------------------------------------------------------------ tokens per minute

    @Test
    void tokensPerMinuteLimitByEstimatedTokens() {
        RateBudget b = budget(0, 1_000, 1.0);

        assertThat(b.acquire("t", 600)).isCompleted();
        CompletableFuture<Void> second = b.acquire("t", 500); // 400 left, 100 missing
        assertThat(second).isNotDone();

        scheduler.advanceBy(6 * SECOND - 1); // 100 tokens at 1000 / 60 s take 6 s
        assertThat(second).isNotDone();
        scheduler.advanceBy(1);
        assertThat(second).isCompleted();

        // zero-token requests never wait on tokens
        CompletableFuture<Void> third = b.acquire("t", 0);
        assertThat(third).isCompleted();
    }

    @Test
    void reconcileRefundsAnOverestimateAndChargesAnUnderestimate() {
        RateBudget b = budget(0, 1_000, 1.0);
        assertThat(b.acquire("t", 1_000)).isCompleted();
        CompletableFuture<Void> waiting = b.acquire("t", 500);
        assertThat(waiting).isNotDone();

        b.reconcile("t", 1_000, 400); // 600 refunded: enough for the waiter at once
        assertThat(waiting).isCompleted();

        b.reconcile("t", 500, 1_100); // 100 left - 600 more used = -500 (debt)
        CompletableFuture<Void> next = b.acquire("t", 100); // needs 600 more: 36 s
        scheduler.advanceBy(36 * SECOND - 10 * MILLI);
        assertThat(next).isNotDone();
        scheduler.advanceBy(10 * MILLI);
        assertThat(next).isCompleted();
    }

    @Test
    void reconcileCannotRefundAboveCapacity() {
        RateBudget b = budget(0, 1_000, 1.0);
        assertThat(b.acquire("t", 100)).isCompleted();

        b.reconcile("t", 100, 0);
        b.reconcile("t", 100_000, 0); // bogus refund: capped at the capacity

        assertThat(b.acquire("t", 1_000)).isCompleted();
        assertThat(b.acquire("t", 1)).isNotDone();
    }

    @Test
    void reconcileChargesTheTenantShareToo() {
        RateBudget b = budget(0, 1_000, 0.5);
        assertThat(b.acquire("a", 100)).isCompleted();

        b.reconcile("a", 100, 500); // tenant a used 500 of its 500

        assertThat(b.acquire("a", 1)).isNotDone();
        assertThat(b.acquire("b", 400)).isCompleted();
    }

    @Test
    void aBogusHugeUsageReportLeavesABlockedBudgetInsteadOfThrowing() {
        RateBudget b = budget(0, 1_000, 0.5);
        assertThat(b.acquire("t", 100)).isCompleted();

        b.reconcile("t", 100, Long.MAX_VALUE / 2); // Bucket4j alone would refuse this debt
        b.reconcile("t", 100, Long.MAX_VALUE / 2);

        CompletableFuture<Void> next = b.acquire("u", 1);
        scheduler.advanceBy(60 * MINUTE);
        assertThat(next).isNotDone();
    }

    @Test
    void impossibleEstimateFailsFast() {
        RateBudget b = budget(0, 1_000, 1.0);

        CompletableFuture<Void> tooBig = b.acquire("t", 1_001);
        assertThat(tooBig).isCompletedExceptionally();
        assertThatThrownBy(tooBig::join).hasCauseInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(b.acquire("t", -1)::join)
                .hasCauseInstanceOf(IllegalArgumentException.class);
        assertThat(b.acquire("t", 1_000)).isCompleted(); // exactly the budget is fine
        assertThat(b.waiting()).isZero();

        RateBudget shared = budget(0, 1_000, 0.5);
        assertThatThrownBy(shared.acquire("t", 501)::join)
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("share");
        assertThat(shared.acquire("t", 500)).isCompleted();
    }

    @Test
    void rejectsInvalidSettingsAndArguments() {
        assertThatThrownBy(() -> budget(60, 0, 0.0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> budget(60, 0, 1.01)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> budget(60, 0, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> budget(3, 0, 0.2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateBudget(60, 0, 1.0, null, clock::get))
                .isInstanceOf(NullPointerException.class);
        RateBudget b = budget(60, 0, 1.0);
        assertThatThrownBy(() -> b.acquire(null, 0)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> b.reconcile("t", -1, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ tenants and fairness

    @Test
    void aFloodingTenantLeavesBudgetForOthers() {
        RateBudget b = budget(100, 0, 0.5);

        List<CompletableFuture<Void>> flood = acquireMany(b, "A", 0, 100);
        assertThat(flood.stream().filter(CompletableFuture::isDone)).hasSize(50); // A's share
        assertThat(b.waiting()).isEqualTo(50);

        CompletableFuture<Void> fromB = b.acquire("B", 0);
        assertThat(fromB).as("B is granted at once while A waits").isCompleted();
        assertThat(acquireMany(b, "B", 0, 49)).allMatch(CompletableFuture::isDone);
        assertThat(b.acquire("B", 0)).isNotDone(); // B's share is spent too
        assertThat(b.waiting()).isEqualTo(51);
    }

    @Test
    void aTenantOutOfShareDoesNotHoldUpAnEarlierQueuedOtherTenant() {
        // 10 rpm globally (one per 6 s), 5 per tenant (one per 12 s)
        RateBudget b = budget(10, 0, 0.5);
        assertThat(acquireMany(b, "A", 0, 5)).allMatch(CompletableFuture::isDone);
        assertThat(acquireMany(b, "C", 0, 5)).allMatch(CompletableFuture::isDone);

        CompletableFuture<Void> fromA = b.acquire("A", 0); // queued first, A's share is empty
        CompletableFuture<Void> fromB = b.acquire("B", 0); // queued second, global is empty
        assertThat(fromA).isNotDone();
        assertThat(fromB).isNotDone();

        scheduler.advanceBy(6 * SECOND);
        assertThat(fromB).as("B does not wait behind A's empty share").isCompleted();
        assertThat(fromA).isNotDone();

        scheduler.advanceBy(6 * SECOND);
        assertThat(fromA).isCompleted();
    }

    @Test
    void grantsInFifoOrderWithinATenantEvenWhenALaterRequestIsSmaller() {
        RateBudget b = budget(0, 1_000, 1.0);
        assertThat(b.acquire("t", 1_000)).isCompleted();
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        long[] tokens = {800, 10, 300, 1};
        for (int i = 0; i < tokens.length; i++) {
            int index = i;
            b.acquire("t", tokens[i]).thenRun(() -> order.add(index));
        }

        scheduler.advanceBy(47 * SECOND); // 783 tokens: small ones would fit, must not overtake
        assertThat(order).isEmpty();
        scheduler.advanceBy(SECOND);
        assertThat(order).containsExactly(0);
        scheduler.advanceBy(MINUTE);
        assertThat(order).containsExactly(0, 1, 2, 3);
    }

    @Test
    void smallRequestsOfOtherTenantsDoNotStarveALargeOneWaitingForTheGlobalBudget() {
        RateBudget b = budget(0, 1_000, 1.0);
        assertThat(b.acquire("A", 1_000)).isCompleted();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        b.acquire("A", 800).thenRun(() -> order.add("A-800"));
        b.acquire("B", 10).thenRun(() -> order.add("B-10"));

        scheduler.advanceBy(47 * SECOND); // 783 tokens: B's 10 would fit, but A came first
        assertThat(order).isEmpty();
        scheduler.advanceBy(SECOND + 600 * MILLI);
        assertThat(order).containsExactly("A-800", "B-10");
    }

    @Test
    void fifoPerTenantUnderRequestLimit() {
        RateBudget b = budget(60, 0, 1.0);
        acquireMany(b, "t", 0, 60);
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 20; i++) {
            int index = i;
            b.acquire(i % 2 == 0 ? "t" : "u", 0).thenRun(() -> order.add(index));
        }

        scheduler.advanceBy(20 * SECOND);

        assertThat(order).hasSize(20).isSorted();
    }

    @Test
    void tenantStateIsBoundedAndIdleTenantsAreForgotten() {
        RateBudget b = new RateBudget(0, 1_000_000, 0.1, scheduler, clock::get, 100);
        budgets.add(b);
        for (int i = 0; i < 10_000; i++) {
            assertThat(b.acquire("tenant-" + i, 10)).isCompleted();
            assertThat(b.trackedTenants()).isLessThanOrEqualTo(101);
        }

        scheduler.advanceBy(MINUTE); // every bucket is full again
        for (int i = 0; i < 65; i++) {
            b.acquire("fresh-" + i, 10);
        }
        assertThat(b.trackedTenants())
                .as("idle tenants with full buckets are dropped")
                .isLessThanOrEqualTo(65);
    }

    // -------------------------------------------------------------- non-blocking, cancel, close

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS) // a blocking acquire() would hang here
    void acquireNeverBlocksTheCallerEvenWhenTheBudgetIsExhausted() {
        ScheduledThreadPoolExecutor real = new ScheduledThreadPoolExecutor(1);
        try {
            AtomicLong frozen = new AtomicLong(0); // time never passes: nothing more is granted
            RateBudget b = new RateBudget(60, 1_000, 0.5, real, frozen::get);
            budgets.add(b);
            acquireMany(b, "warm-up", 0, 2_000);
            long max = 0;
            long sum = 0;
            int n = 5_000;
            int pending = 0;
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                CompletableFuture<Void> f = b.acquire("t" + (i % 10), 1);
                long took = System.nanoTime() - t0;
                max = Math.max(max, took);
                sum += took;
                // With time frozen nothing is refilled: a call that waited for its grant would
                // never return. Each one hands back a future, pending once the bucket is empty.
                pending += f.isDone() ? 0 : 1;
            }
            assertThat(n - pending)
                    .as("granted at once: at most the bucket's 60 requests")
                    .isLessThanOrEqualTo(60);
            assertThat(b.waiting()).isGreaterThan(n + 1_900);
            // Timings are printed, not asserted (they depend on the machine's load).
            System.out.printf(
                    "RateBudget acquire, budget exhausted: mean %.1f µs, max %.2f ms%n",
                    sum / (double) n / 1e3, max / 1e6);
        } finally {
            real.shutdownNow();
        }
    }

    @Test
    void cancellingAWaiterWithdrawsItWithoutConsumingBudget() {
        RateBudget b = budget(60, 0, 1.0);
        acquireMany(b, "t", 0, 60);
        CompletableFuture<Void> first = b.acquire("t", 0);
        CompletableFuture<Void> second = b.acquire("t", 0);
        assertThat(b.waiting()).isEqualTo(2);

        first.cancel(false);
        assertThat(b.waiting()).isEqualTo(1);

        scheduler.advanceBy(SECOND);
        assertThat(second).isCompleted();
        assertThat(b.granted()).isEqualTo(61);
    }

    @Test
    void closeFailsWaitersAndLaterAcquires() {
        RateBudget b = budget(60, 0, 1.0);
        acquireMany(b, "t", 0, 60);
        List<CompletableFuture<Void>> waiters = acquireMany(b, "t", 0, 3);
        waiters.add(b.acquire("u", 0));

        b.close();

        assertThat(waiters).allMatch(CompletableFuture::isCompletedExceptionally);
        assertThatThrownBy(waiters.get(0)::join).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(b.waiting()).isZero();
        assertThatThrownBy(b.acquire("t", 0)::join).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(scheduler.isShutdown()).isFalse();
        scheduler.advanceBy(MINUTE);
        assertThat(b.granted()).isEqualTo(60);
        b.close(); // idempotent
    }

    @Test
    void aRejectingSchedulerFailsTheDeferredRequest() {
        ScheduledThreadPoolExecutor real = new ScheduledThreadPoolExecutor(1);
        real.shutdown();
        RateBudget b = new RateBudget(1, 0, 1.0, real, clock::get);
        budgets.add(b);

        assertThat(b.acquire("t", 0)).isCompleted();
        assertThatThrownBy(b.acquire("t", 0)::join).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(b.waiting()).isZero();
    }

    @Test
    void concurrentAcquiresGrantExactlyTheBudget() throws Exception {
        RateBudget b = budget(1_000, 0, 1.0); // the clock does not move
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<CompletableFuture<Void>>>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                String tenant = "t" + t;
                results.add(
                        pool.submit(
                                () -> {
                                    start.await();
                                    return acquireMany(b, tenant, 0, 500);
                                }));
            }
            start.countDown();
            long done = 0;
            for (Future<List<CompletableFuture<Void>>> r : results) {
                done +=
                        r.get(30, TimeUnit.SECONDS).stream()
                                .filter(CompletableFuture::isDone)
                                .count();
            }
            assertThat(done).isEqualTo(1_000);
            assertThat(b.granted()).isEqualTo(1_000);
            assertThat(b.waiting()).isEqualTo(3_000);
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ real time

    @Test
    void realTimeSanityAt60RequestsPerMinute() throws Exception {
        ScheduledThreadPoolExecutor real = new ScheduledThreadPoolExecutor(1);
        try {
            long t0 = System.nanoTime();
            RateBudget b = new RateBudget(60, 0, 1.0, real, System::nanoTime);
            budgets.add(b);
            // the bucket starts full
            assertThat(acquireMany(b, "t", 0, 60)).allMatch(CompletableFuture::isDone);
            CompletableFuture<Long> n61 = b.acquire("t", 0).thenApply(v -> System.nanoTime() - t0);
            CompletableFuture<Long> n62 = b.acquire("t", 0).thenApply(v -> System.nanoTime() - t0);
            long at61 = n61.get(30, TimeUnit.SECONDS);
            long at62 = n62.get(30, TimeUnit.SECONDS);

            // Lower bounds follow from the refill rate (one token a second from construction);
            // the upper bounds only catch a grant that never comes on time, with slack for a
            // loaded machine.
            assertThat(at61).isBetween(900 * MILLI, 10_000 * MILLI);
            assertThat(at62).isBetween(1_900 * MILLI, 11_000 * MILLI);
            System.out.printf(
                    "RateBudget real time at 60 rpm: 61st granted after %.3f s,"
                            + " 62nd after %.3f s%n",
                    at61 / 1e9, at62 / 1e9);
        } finally {
            real.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ manual scheduler

    /** Runs scheduled tasks in due-time order, on the test thread, when the fake clock advances. */
    static final class ManualScheduler extends AbstractExecutorService
            implements ScheduledExecutorService {
        private final AtomicLong clock;
        private final PriorityQueue<Task<?>> tasks =
                new PriorityQueue<>(
                        Comparator.<Task<?>>comparingLong(t -> t.due)
                                .thenComparingLong(t -> t.seq));
        private long seq;
        private long ran;
        private boolean shutdown;

        ManualScheduler(AtomicLong clock) {
            this.clock = clock;
        }

        void advanceBy(long nanos) {
            advanceTo(clock.get() + nanos);
        }

        void advanceTo(long target) {
            while (true) {
                Task<?> next;
                synchronized (this) {
                    next = tasks.peek();
                    if (next == null || next.due > target) {
                        break;
                    }
                    tasks.poll();
                }
                if (next.isCancelled()) {
                    continue;
                }
                clock.set(Math.max(clock.get(), next.due));
                synchronized (this) {
                    ran++;
                }
                next.run();
            }
            clock.set(Math.max(clock.get(), target));
        }

        synchronized long ran() {
            return ran;
        }

        synchronized long pending() {
            return tasks.stream().filter(t -> !t.isCancelled()).count();
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return schedule(Executors.callable(command), delay, unit);
        }

        @Override
        public synchronized <V> ScheduledFuture<V> schedule(
                Callable<V> callable, long delay, TimeUnit unit) {
            if (shutdown) {
                throw new RejectedExecutionException("shut down");
            }
            long due = clock.get() + unit.toNanos(Math.max(0, delay));
            Task<V> task = new Task<>(callable, due, seq++, clock);
            tasks.add(task);
            return task;
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(
                Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(
                Runnable command, long initialDelay, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void execute(Runnable command) {
            schedule(command, 0, TimeUnit.NANOSECONDS);
        }

        @Override
        public synchronized void shutdown() {
            shutdown = true;
        }

        @Override
        public synchronized List<Runnable> shutdownNow() {
            shutdown = true;
            List<Runnable> left = new ArrayList<>(tasks);
            tasks.clear();
            return left;
        }

        @Override
        public synchronized boolean isShutdown() {
            return shutdown;
        }

        @Override
        public synchronized boolean isTerminated() {
            return shutdown && tasks.isEmpty();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return isTerminated();
        }

        private static final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
            final long due;
            final long seq;
            private final AtomicLong clock;

            Task(Callable<V> callable, long due, long seq, AtomicLong clock) {
                super(callable);
                this.due = due;
                this.seq = seq;
                this.clock = clock;
            }

            @Override
            public long getDelay(TimeUnit unit) {
                return unit.convert(due - clock.get(), TimeUnit.NANOSECONDS);
            }

            @Override
            public int compareTo(Delayed other) {
                return Long.compare(
                        getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
            }
        }
    }
}

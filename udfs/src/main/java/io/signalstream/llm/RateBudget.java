package io.signalstream.llm;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.EstimationProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.local.SynchronizationStrategy;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Non-blocking requests-per-minute (RPM) and tokens-per-minute (TPM) budget for calls to an LLM
 * provider, with an optional per-tenant share, so that a job stays inside the provider's quota
 * instead of collecting HTTP 429s and one noisy tenant cannot starve the others.
 *
 * <h2>Algorithm</h2>
 *
 * <p>Every limit is a Bucket4j token bucket (J. Turner, "New directions in communications (or which
 * way to the information age?)", IEEE Communications Magazine, 1986; the meter of RFC 2697 without
 * its excess bucket): capacity {@code C}, starts full, greedy refill of {@code C} per minute (pro
 * rata to the nanosecond, never above {@code C}), time read from {@code nanoClock}. A request may
 * go when every bucket it draws from holds enough; it then takes its amount from each. A request
 * draws:
 *
 * <ul>
 *   <li>1 from the global request bucket ({@code C = requestsPerMinute}),
 *   <li>{@code estimatedTokens} from the global token bucket ({@code C = tokensPerMinute}),
 *   <li>when {@code tenantShare < 1}, 1 and {@code estimatedTokens} from its tenant's own request
 *       and token buckets ({@code C = floor(tenantShare × limit)}).
 * </ul>
 *
 * <p>Unlimited budgets (a limit {@code <= 0}) have no bucket. {@link #reconcile} charges ({@code
 * consumeIgnoringRateLimits}) or refunds ({@code addTokens}, capped at the capacity) the difference
 * between estimated and actual tokens; a bucket may go negative (debt), which later requests then
 * wait for.
 *
 * <p><b>Burst tolerance.</b> A bucket of capacity {@code C} refilling {@code C} per minute admits
 * at most {@code C} (its content) {@code + C} (its refill) requests in any 60-second window, i.e.
 * up to twice the limit in the first minute after an idle period; in steady state under saturation
 * it admits the limit per minute (exactly the long-run rate). Providers that meter with a token
 * bucket themselves (most do) accept this; for a provider with a strict sliding 60-second window,
 * configure half its quota.
 *
 * <h2>Queueing and fairness (ours: Bucket4j has no queue)</h2>
 *
 * <p>Bucket4j's own deferral ({@code asScheduler()}) reserves one bucket's tokens per request in
 * arrival order; it cannot make one grant depend on four buckets at once, keep FIFO per tenant, or
 * let a tenant out of share be overtaken. So the queue and the scan below are this class's.
 *
 * <p>{@link #acquire} never blocks and never sleeps: it returns a future that is completed at once
 * (on the caller's thread) when the budget suffices, or later on the scheduler. Waiting requests
 * are queued FIFO per tenant; only the head of each tenant's queue competes. Heads are considered
 * in arrival order: a head whose <em>tenant</em> bucket is short is skipped (so a tenant that used
 * up its share does not hold up other tenants), while the first head whose tenant buckets suffice
 * but the <em>global</em> bucket does not stops the scan (global FIFO among eligible requests, so
 * large requests are not starved by small ones). When requests remain, one task is scheduled for
 * the earliest time, from Bucket4j's {@code getNanosToWaitForRefill()}, at which a skipped or
 * stopped head will have enough budget (no polling); it re-runs the scan. A future cancelled by the
 * caller leaves the queue without consuming budget.
 *
 * <h2>Memory</h2>
 *
 * <p>Tenant state is created lazily. A tenant with no waiting request whose buckets are full again
 * is indistinguishable from a new one and is dropped by a periodic sweep. At most 10,000 tenants
 * are tracked: beyond that, the least-recently-used tenants without waiting requests are forgotten
 * even if their buckets are not full (their share restarts full; the global budget still holds).
 * Tenants with waiting requests are never dropped; bound the number of in-flight requests upstream
 * (e.g. Flink's async capacity).
 *
 * <p>Thread-safe: state (the buckets included) is guarded by this object's monitor, held only for
 * short bookkeeping; futures are completed outside it. The scan costs O(number of tenants with
 * waiting requests) per event in the worst case.
 */
public final class RateBudget implements AutoCloseable {

    /** Largest number of tenants tracked at once, see the class comment. */
    static final int DEFAULT_MAX_TENANTS = 10_000;

    private static final int MIN_SWEEP_THRESHOLD = 64;
    private static final Duration MINUTE = Duration.ofMinutes(1);

    /** Largest debt one {@link #reconcile} charge may add, in minutes of refill. */
    private static final long MAX_DEBT_MINUTES = 10_000;

    private final long tokensPerMinute;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoClock;
    private final TimeMeter timeMeter;
    private final int maxTenants;

    /** Capacity of each tenant's request / token bucket; 0 = none. */
    private final long tenantRequestCapacity;

    private final long tenantTokenCapacity;
    private final Bucket globalRequests;
    private final Bucket globalTokens;

    /** Access-ordered, so iteration starts at the least recently used tenant. */
    private final LinkedHashMap<String, Tenant> tenants = new LinkedHashMap<>(16, 0.75f, true);

    /** The head waiter of every tenant that has one, in arrival order. */
    private final TreeSet<Waiter> heads = new TreeSet<>(Comparator.comparingLong(w -> w.seq));

    private long nextSeq;
    private int waitingCount;
    private long grantedCount;
    private boolean closed;
    private int sweepThreshold = MIN_SWEEP_THRESHOLD;
    private ScheduledFuture<?> wakeTask;
    private long wakeAt;
    private long wakeGeneration;

    /**
     * Creates a budget whose buckets all start full.
     *
     * @param requestsPerMinute requests per minute; 0 or less = unlimited
     * @param tokensPerMinute (LLM) tokens per minute; 0 or less = unlimited
     * @param tenantShare in (0, 1]: the largest fraction of each budget one tenant may hold over
     *     any minute (rounded down to whole requests and tokens); 1 = no per-tenant cap
     * @param scheduler runs deferred grants (the caller owns it; {@link #close()} does not shut it
     *     down)
     * @param nanoClock monotonic time in nanoseconds: {@code System::nanoTime} in production, a
     *     fake in tests
     * @throws IllegalArgumentException if {@code tenantShare} is not in (0, 1], or if a tenant's
     *     request share {@code tenantShare × requestsPerMinute} is below one request
     * @throws NullPointerException if {@code scheduler} or {@code nanoClock} is null
     */
    public RateBudget(
            int requestsPerMinute,
            long tokensPerMinute,
            double tenantShare,
            ScheduledExecutorService scheduler,
            LongSupplier nanoClock) {
        this(
                requestsPerMinute,
                tokensPerMinute,
                tenantShare,
                scheduler,
                nanoClock,
                DEFAULT_MAX_TENANTS);
    }

    /** As the public constructor, with the bound on tracked tenants (for tests). */
    RateBudget(
            int requestsPerMinute,
            long tokensPerMinute,
            double tenantShare,
            ScheduledExecutorService scheduler,
            LongSupplier nanoClock,
            int maxTenants) {
        if (!(tenantShare > 0.0 && tenantShare <= 1.0)) {
            throw new IllegalArgumentException("tenantShare must be in (0, 1]: " + tenantShare);
        }
        if (requestsPerMinute > 0 && tenantShare < 1.0 && tenantShare * requestsPerMinute < 1.0) {
            throw new IllegalArgumentException(
                    "tenantShare × requestsPerMinute is below one"
                            + " request: "
                            + tenantShare
                            + " × "
                            + requestsPerMinute);
        }
        if (maxTenants < 1) {
            throw new IllegalArgumentException("maxTenants must be positive: " + maxTenants);
        }
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.timeMeter =
                new TimeMeter() {
                    @Override
                    public long currentTimeNanos() {
                        return nanoClock.getAsLong();
                    }

                    @Override
                    public boolean isWallClockBased() {
                        return false;
                    }
                };
        this.maxTenants = maxTenants;
        long rpm = Math.max(0, requestsPerMinute);
        this.tokensPerMinute = Math.max(0L, tokensPerMinute);
        boolean perTenant = tenantShare < 1.0;
        this.globalRequests = bucket(rpm);
        this.globalTokens = bucket(this.tokensPerMinute);
        this.tenantRequestCapacity = perTenant ? share(tenantShare, rpm) : 0;
        this.tenantTokenCapacity = perTenant ? share(tenantShare, this.tokensPerMinute) : 0;
    }

    /**
     * Asks for permission to send one request of about {@code estimatedTokens} tokens for {@code
     * tenant}. Never blocks: the future is returned at once, already completed when the budget
     * suffices now, otherwise completed later on the scheduler, in FIFO order per tenant.
     *
     * @param tenant tenant (or any fairness key); must not be null
     * @param estimatedTokens estimated tokens of the request (prompt plus expected answer), {@code
     *     >= 0}
     * @return a future completed with {@code null} when the request may be sent; failed with {@link
     *     IllegalArgumentException} if {@code estimatedTokens} is negative or could never be
     *     granted (above {@code tokensPerMinute}, or above the tenant's share of it when {@code
     *     tenantShare < 1}); failed with {@link IllegalStateException} if the budget is (or gets)
     *     closed or the scheduler rejects the deferred grant. Cancelling the future withdraws the
     *     request.
     * @throws NullPointerException if {@code tenant} is null
     */
    public CompletableFuture<Void> acquire(String tenant, long estimatedTokens) {
        Objects.requireNonNull(tenant, "tenant");
        if (estimatedTokens < 0) {
            return CompletableFuture.failedFuture(
                    new IllegalArgumentException(
                            "estimatedTokens must be >= 0: " + estimatedTokens));
        }
        if (tokensPerMinute > 0 && estimatedTokens > tokensPerMinute) {
            return CompletableFuture.failedFuture(
                    new IllegalArgumentException(
                            "estimatedTokens "
                                    + estimatedTokens
                                    + " exceed the budget of "
                                    + tokensPerMinute
                                    + " tokens per minute"));
        }
        if (tenantTokenCapacity > 0 && estimatedTokens > tenantTokenCapacity) {
            return CompletableFuture.failedFuture(
                    new IllegalArgumentException(
                            "estimatedTokens "
                                    + estimatedTokens
                                    + " exceed a tenant's share of "
                                    + tenantTokenCapacity
                                    + " tokens per minute"));
        }
        Waiter waiter;
        List<Runnable> completions;
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(
                        new IllegalStateException("RateBudget is closed"));
            }
            Tenant t = tenantFor(tenant);
            waiter = new Waiter(t, estimatedTokens, nextSeq++);
            t.queue.addLast(waiter);
            waitingCount++;
            if (t.queue.size() == 1) {
                heads.add(waiter);
            }
            completions = drainLocked();
        }
        completions.forEach(Runnable::run);
        if (!waiter.future.isDone()) {
            waiter.future.whenComplete((ignored, error) -> withdraw(waiter));
        }
        return waiter.future;
    }

    /**
     * Corrects the token account once the provider reported the real usage of a granted request:
     * charges {@code actualTokens - estimatedTokens} to the global and the tenant token buckets (a
     * refund when negative, never above a bucket's capacity; a charge may drive a bucket into debt,
     * of at most 10,000 minutes of refill per charge). A no-op without a token budget or after
     * {@link #close()}.
     *
     * @param tenant the tenant the request was acquired for; must not be null
     * @param estimatedTokens the estimate passed to {@link #acquire}, {@code >= 0}
     * @param actualTokens the tokens the provider reported, {@code >= 0}
     * @throws IllegalArgumentException if a token count is negative
     * @throws NullPointerException if {@code tenant} is null
     */
    public void reconcile(String tenant, long estimatedTokens, long actualTokens) {
        Objects.requireNonNull(tenant, "tenant");
        if (estimatedTokens < 0 || actualTokens < 0) {
            throw new IllegalArgumentException(
                    "token counts must be >= 0: " + estimatedTokens + ", " + actualTokens);
        }
        long delta = actualTokens - estimatedTokens;
        if (delta == 0 || tokensPerMinute <= 0) {
            return;
        }
        List<Runnable> completions = List.of();
        synchronized (this) {
            if (closed) {
                return;
            }
            charge(globalTokens, capDebt(delta, tokensPerMinute));
            if (tenantTokenCapacity > 0) {
                // A missing tenant has a full bucket: a refund would change nothing.
                Tenant t = delta > 0 ? tenantFor(tenant) : tenants.get(tenant);
                if (t != null) {
                    charge(t.tokens, capDebt(delta, tenantTokenCapacity));
                }
            }
            if (delta < 0 && waitingCount > 0) {
                completions = drainLocked();
            }
        }
        completions.forEach(Runnable::run);
    }

    /**
     * Returns the number of requests waiting for budget now.
     *
     * @return queued requests (granted, failed and withdrawn ones excluded)
     */
    public synchronized int waiting() {
        return waitingCount;
    }

    /**
     * Returns the number of grants so far.
     *
     * @return total grants since construction
     */
    public synchronized long granted() {
        return grantedCount;
    }

    /** Returns the number of tenants currently tracked (for tests). */
    synchronized int trackedTenants() {
        return tenants.size();
    }

    /**
     * Closes the budget: fails every waiting future with {@link IllegalStateException}, cancels the
     * pending deferred grant and makes later {@link #acquire} calls fail the same way. Does not
     * shut the scheduler down. Idempotent.
     */
    @Override
    public void close() {
        List<Runnable> completions = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            cancelWake();
            failAllLocked(new IllegalStateException("RateBudget closed"), completions);
            tenants.clear();
        }
        completions.forEach(Runnable::run);
    }

    // ---------------------------------------------------------------- internals (hold the lock)

    /**
     * Grants every head that can go now, in arrival order, and schedules the next wake-up. Returns
     * the future completions to run once the lock is released.
     */
    private List<Runnable> drainLocked() {
        List<Runnable> completions = new ArrayList<>();
        long earliestWait = Long.MAX_VALUE;
        Waiter w = heads.isEmpty() ? null : heads.first();
        while (w != null) {
            Tenant t = w.tenant;
            long tenantWait = Math.max(nanosUntil(t.requests, 1), nanosUntil(t.tokens, w.tokens));
            long globalWait =
                    Math.max(nanosUntil(globalRequests, 1), nanosUntil(globalTokens, w.tokens));
            if (tenantWait > 0) {
                // This tenant used up its share: skip it, do not hold up the others.
                earliestWait = Math.min(earliestWait, Math.max(tenantWait, globalWait));
                w = heads.higher(w);
            } else if (globalWait > 0) {
                // Global FIFO among eligible heads: later ones must not overtake this one.
                earliestWait = Math.min(earliestWait, globalWait);
                break;
            } else {
                charge(globalRequests, 1);
                charge(globalTokens, w.tokens);
                charge(t.requests, 1);
                charge(t.tokens, w.tokens);
                heads.remove(w);
                t.queue.pollFirst();
                waitingCount--;
                grantedCount++;
                w.settled = true;
                CompletableFuture<Void> granted = w.future;
                completions.add(() -> granted.complete(null));
                if (!t.queue.isEmpty()) {
                    heads.add(t.queue.peekFirst());
                } else if (t.requests == null && t.tokens == null) {
                    tenants.remove(t.name); // nothing to remember
                }
                w = heads.higher(w);
            }
        }
        if (heads.isEmpty()) {
            cancelWake();
        } else {
            scheduleWake(earliestWait == Long.MAX_VALUE ? 1 : earliestWait, completions);
        }
        return completions;
    }

    private void scheduleWake(long delayNanos, List<Runnable> completions) {
        long now = nanoClock.getAsLong();
        if (wakeTask != null && wakeAt - now <= delayNanos) {
            return; // an earlier (or equal) wake-up is already pending; it will re-scan
        }
        cancelWake();
        long generation = ++wakeGeneration;
        try {
            wakeTask =
                    scheduler.schedule(() -> onWake(generation), delayNanos, TimeUnit.NANOSECONDS);
            wakeAt = now + delayNanos;
        } catch (RejectedExecutionException e) {
            failAllLocked(
                    new IllegalStateException("scheduler rejected a deferred grant", e),
                    completions);
        }
    }

    private void failAllLocked(Throwable error, List<Runnable> completions) {
        for (Tenant t : tenants.values()) {
            for (Waiter w : t.queue) {
                w.settled = true;
                completions.add(() -> w.future.completeExceptionally(error));
            }
            t.queue.clear();
        }
        heads.clear();
        waitingCount = 0;
    }

    private void cancelWake() {
        if (wakeTask != null) {
            wakeTask.cancel(false);
            wakeTask = null;
        }
    }

    private void onWake(long generation) {
        List<Runnable> completions;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (generation == wakeGeneration) {
                wakeTask = null;
            }
            completions = drainLocked();
        }
        completions.forEach(Runnable::run);
    }

    /** Removes a waiter whose future was completed by someone else (cancelled by the caller). */
    private void withdraw(Waiter w) {
        List<Runnable> completions = List.of();
        synchronized (this) {
            if (w.settled || closed) {
                return;
            }
            w.settled = true;
            Tenant t = w.tenant;
            boolean wasHead = t.queue.peekFirst() == w;
            t.queue.remove(w);
            waitingCount--;
            if (wasHead) {
                heads.remove(w);
                if (!t.queue.isEmpty()) {
                    heads.add(t.queue.peekFirst());
                }
                completions = drainLocked();
            }
        }
        completions.forEach(Runnable::run);
    }

    private Tenant tenantFor(String name) {
        Tenant t = tenants.get(name);
        if (t == null) {
            t = new Tenant(name, bucket(tenantRequestCapacity), bucket(tenantTokenCapacity));
            tenants.put(name, t);
            if (tenants.size() > sweepThreshold) {
                sweep(t);
            }
        }
        return t;
    }

    /** Drops idle tenants (lossless), then the least recently used ones beyond the bound. */
    private void sweep(Tenant keep) {
        tenants.values()
                .removeIf(
                        t ->
                                t != keep
                                        && t.queue.isEmpty()
                                        && isFull(t.requests, tenantRequestCapacity)
                                        && isFull(t.tokens, tenantTokenCapacity));
        Iterator<Tenant> it = tenants.values().iterator();
        while (it.hasNext() && tenants.size() > maxTenants) {
            Tenant t = it.next();
            if (t != keep && t.queue.isEmpty()) {
                it.remove();
            }
        }
        sweepThreshold =
                (int) Math.min(maxTenants, Math.max(MIN_SWEEP_THRESHOLD, 2L * tenants.size()));
    }

    /** A bucket of {@code capacity} refilled greedily per minute; null when unlimited. */
    private Bucket bucket(long capacity) {
        if (capacity <= 0) {
            return null;
        }
        return Bucket.builder()
                .addLimit(limit -> limit.capacity(capacity).refillGreedy(capacity, MINUTE))
                .withCustomTimePrecision(timeMeter)
                // Every access holds this object's monitor already.
                .withSynchronizationStrategy(SynchronizationStrategy.NONE)
                .build();
    }

    private static long share(double tenantShare, long limit) {
        return limit > 0 ? Math.max(1L, (long) Math.floor(tenantShare * limit)) : 0;
    }

    /** Nanoseconds until {@code b} holds {@code amount}; 0 if it does now or has no limit. */
    private static long nanosUntil(Bucket b, long amount) {
        if (b == null || amount == 0) {
            return 0;
        }
        EstimationProbe probe = b.estimateAbilityToConsume(amount);
        return probe.canBeConsumed() ? 0 : Math.max(1L, probe.getNanosToWaitForRefill());
    }

    /** Takes {@code amount} from {@code b} (into debt if need be); a negative amount refunds. */
    private static void charge(Bucket b, long amount) {
        if (b == null || amount == 0) {
            return;
        }
        if (amount > 0) {
            try {
                b.consumeIgnoringRateLimits(amount);
            } catch (IllegalArgumentException e) {
                // Debt past Bucket4j's range (see capDebt): the bucket is blocked for ages anyway.
            }
        } else {
            b.addTokens(-amount); // capped at the capacity
        }
    }

    /**
     * Caps one charge at {@value #MAX_DEBT_MINUTES} minutes of refill: Bucket4j refuses
     * (IllegalArgumentException) a debt whose wait overflows a long of nanoseconds, which a bogus
     * usage report could otherwise cause.
     */
    private static long capDebt(long delta, long capacity) {
        long max =
                capacity > Long.MAX_VALUE / MAX_DEBT_MINUTES
                        ? Long.MAX_VALUE
                        : capacity * MAX_DEBT_MINUTES;
        return Math.min(delta, max);
    }

    private static boolean isFull(Bucket b, long capacity) {
        return b == null || b.getAvailableTokens() >= capacity;
    }

    private static final class Tenant {
        final String name;
        final Bucket requests;
        final Bucket tokens;
        final ArrayDeque<Waiter> queue = new ArrayDeque<>();

        Tenant(String name, Bucket requests, Bucket tokens) {
            this.name = name;
            this.requests = requests;
            this.tokens = tokens;
        }
    }

    private static final class Waiter {
        final Tenant tenant;
        final long tokens;
        final long seq;
        final CompletableFuture<Void> future = new CompletableFuture<>();

        /** Set under the lock once this class decided the outcome (granted or failed). */
        boolean settled;

        Waiter(Tenant tenant, long tokens, long seq) {
            this.tenant = tenant;
            this.tokens = tokens;
            this.seq = seq;
        }
    }
}

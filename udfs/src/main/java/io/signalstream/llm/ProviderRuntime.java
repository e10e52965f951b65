package io.signalstream.llm;

import io.signalstream.agents.ProviderStats;

import org.asynchttpclient.AsyncHttpClient;
import org.asynchttpclient.Dsl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What all calls to one provider share inside a TaskManager JVM: the HTTP client, the request and
 * token budget, the circuit breaker, the in-flight bound, the response cache and the counters.
 * Every agent operator subtask of the JVM that uses the provider holds a reference ({@link
 * #acquire}/{@link #release}); the last release closes it. Budgets are therefore per TaskManager:
 * divide the provider's quota by the number of TaskManagers.
 *
 * <p>With the response log on ({@link ResponseLogSettings}), the first {@link #acquire} in a JVM
 * reads the log into the cache ({@link ResponseLog#warmUp}, bounded by its timeout) before it
 * returns, so no call is made before the answers of earlier runs are known; later acquirers wait
 * for that warm-up too.
 */
public final class ProviderRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderRuntime.class);

    private static final Map<ProviderSettings, ProviderRuntime> SHARED = new HashMap<>();

    final ProviderSettings settings;
    final String apiKey;
    final AsyncHttpClient http;
    final ScheduledExecutorService scheduler;
    final RateBudget budget;
    final CircuitBreaker breaker;
    final AsyncSemaphore inFlight;
    final ResponseCache cache;
    final AtomicBoolean jsonSchemaSupported;
    final ProviderStats stats;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private int references;
    private final Object warmUpLock = new Object();
    private boolean warmedUp; // guarded by warmUpLock

    private ProviderRuntime(ProviderSettings s) {
        this.settings = s;
        this.apiKey = s.apiKey();
        ScheduledThreadPoolExecutor sched =
                new ScheduledThreadPoolExecutor(
                        1,
                        r -> {
                            Thread t = new Thread(r, "llm-" + s.name() + "-scheduler");
                            t.setDaemon(true);
                            return t;
                        });
        sched.setRemoveOnCancelPolicy(true);
        this.scheduler = sched;
        this.http =
                Dsl.asyncHttpClient(
                        Dsl.config()
                                .setConnectTimeout(Duration.ofSeconds(5))
                                .setRequestTimeout(s.requestTimeout())
                                .setReadTimeout(s.requestTimeout())
                                .setMaxConnections(Math.max(4, s.maxInFlight() * 2))
                                .setThreadPoolName("llm-" + s.name())
                                .setKeepAlive(true)
                                // Retries are ours (counted, backed off, within the deadline):
                                // the client must not replay requests on its own.
                                .setMaxRequestRetry(0));
        this.budget =
                new RateBudget(
                        s.requestsPerMinute(),
                        s.tokensPerMinute(),
                        s.tenantShare(),
                        scheduler,
                        System::nanoTime);
        this.breaker =
                new CircuitBreaker(
                        Math.max(1, s.circuitFailureThreshold()),
                        s.circuitCoolDown(),
                        System::nanoTime);
        this.inFlight = new AsyncSemaphore(s.maxInFlight());
        this.jsonSchemaSupported = new AtomicBoolean(s.jsonSchema());
        this.stats = ProviderStats.of(s.name());
        this.cache =
                s.cacheSize() > 0
                        ? new ResponseCache(s.cacheSize(), s.cacheTtl(), responseLog(s, stats))
                        : null;
    }

    private static ResponseLog responseLog(ProviderSettings s, ProviderStats stats) {
        ResponseLogSettings log = s.responseLog();
        if (log == null || !log.enabled()) {
            return null;
        }
        try {
            return new ResponseLog(log, s.name(), s.model(), stats, Clock.systemUTC());
        } catch (RuntimeException e) {
            LOG.warn(
                    "provider {}: the response log {} cannot be used ({}); answers are cached on"
                            + " the heap only",
                    s.name(),
                    log,
                    e.toString());
            return null;
        }
    }

    /**
     * The runtime of a provider, created on first use in this JVM; the first caller also warms the
     * cache from the response log (at most its warm-up timeout), later callers wait for it.
     */
    public static ProviderRuntime acquire(ProviderSettings settings) {
        ProviderRuntime rt;
        synchronized (ProviderRuntime.class) {
            rt = SHARED.computeIfAbsent(settings, ProviderRuntime::new);
            rt.references++;
        }
        rt.warmUpOnce();
        return rt;
    }

    private void warmUpOnce() {
        synchronized (warmUpLock) {
            if (warmedUp) {
                return;
            }
            warmedUp = true;
            ResponseLog log = cache == null ? null : cache.log();
            if (log == null) {
                return;
            }
            ResponseLog.WarmUp w =
                    ResponseLog.warmUp(
                            settings.responseLog(),
                            settings.name(),
                            settings.cacheTtl(),
                            cache,
                            stats,
                            Clock.systemUTC());
            if (!w.topicFound()) {
                log.disable();
            }
        }
    }

    /** Drops a reference; the last one closes the client, budget and scheduler. */
    public void release() {
        synchronized (ProviderRuntime.class) {
            if (--references > 0) {
                return;
            }
            SHARED.remove(settings);
        }
        budget.close();
        scheduler.shutdownNow();
        if (cache != null && cache.log() != null) {
            cache.log().close();
        }
        try {
            http.close();
        } catch (Exception e) {
            LOG.debug("closing the HTTP client of {} failed", settings.name(), e);
        }
    }

    /** Logs a warning the first time a given key is seen, so a bad key is reported once. */
    void warnOnce(String key, String message) {
        if (logged.add(key)) {
            LOG.warn("provider {}: {} (reported once)", settings.name(), message);
        }
    }
}

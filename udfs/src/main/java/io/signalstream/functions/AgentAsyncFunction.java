package io.signalstream.functions;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.ProviderStats;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Calls one agent for a conversation snapshot through Flink async I/O.
 *
 * <p>The provider is created in {@link #open} and answers on its own threads; the callback only
 * completes the {@link ResultFuture}, so the task thread never blocks. A call that fails becomes a
 * {@code failed} result (which the operator's retry strategy may retry) and a call that outlives
 * the operator timeout becomes a {@code timeout} result: an agent can never fail the job or lose
 * the record. The function holds no keyed or checkpointed state; everything it needs travels in the
 * snapshot. It only counts the attempts of the calls in flight (Flink's retry calls {@link
 * #asyncInvoke} again with the same {@link ResultFuture}), so each result says how many attempts it
 * took; after a restore, in-flight calls start again at attempt 1.
 *
 * <p>Metrics, in the group {@code agent=<agent>, provider=<provider>} of the operator: counters
 * {@code requests} (calls, retries included), {@code successes} (status ok), {@code failures}
 * (status failed), {@code fallbacks}, {@code timeouts}, {@code retries} (calls Flink's retry
 * strategy made again), {@code prompt_tokens}, {@code completion_tokens}, {@code results} per
 * {@code status}; gauge {@code in_flight}; histogram {@code latency_ms} (wall time of a call, from
 * {@link #asyncInvoke} to its result). For a remote provider, gauges {@code llm_requests}, {@code
 * llm_cache_hits}, {@code llm_cache_misses}, {@code llm_retries}, {@code llm_repairs}, {@code
 * llm_failures}, {@code llm_fallbacks}, {@code llm_circuit_rejections} read the provider's counters
 * of this TaskManager ({@link ProviderStats#of}), which all agents on that provider share.
 */
public class AgentAsyncFunction extends RichAsyncFunction<ConversationSnapshot, AgentResult> {

    private static final long serialVersionUID = 1L;

    private final AgentSpec spec;
    private final Configuration conf;
    private final long timeoutMs;
    private final int maxAttempts;

    /** Samples kept by the {@code latency_ms} histogram. */
    static final int LATENCY_WINDOW = 1024;

    private transient AgentProvider provider;
    private transient Counter timeouts;
    private transient Counter failures;
    private transient Counter promptTokens;
    private transient Counter completionTokens;
    private transient Counter requests;
    private transient Counter successes;
    private transient Counter fallbacks;
    private transient Counter retries;
    private transient Histogram latencyMs;
    private transient Set<ResultFuture<AgentResult>> inFlight;
    private transient Map<ResultFuture<AgentResult>, Integer> attempts;

    /**
     * @param spec the agent
     * @param conf job configuration, for the provider's settings
     * @param timeoutMs the async operator's timeout in milliseconds, reported in timeout results
     * @param maxAttempts the retry strategy's attempts in total: a failed result at this attempt is
     *     final
     */
    public AgentAsyncFunction(AgentSpec spec, Configuration conf, long timeoutMs, int maxAttempts) {
        this.spec = spec;
        this.conf = conf;
        this.timeoutMs = timeoutMs;
        this.maxAttempts = maxAttempts;
    }

    /** Creates the provider in {@link #open}; tests override it to inject slow or failing ones. */
    protected AgentProvider createProvider() {
        return AgentProviders.create(spec, conf);
    }

    @Override
    public void open(OpenContext openContext) {
        provider = createProvider();
        attempts = Collections.synchronizedMap(new IdentityHashMap<>());
        var group =
                getRuntimeContext()
                        .getMetricGroup()
                        .addGroup("agent", spec.name())
                        .addGroup("provider", spec.provider());
        timeouts = group.counter("timeouts");
        failures = group.counter("failures");
        promptTokens = group.counter("prompt_tokens");
        completionTokens = group.counter("completion_tokens");
        requests = group.counter("requests");
        successes = group.counter("successes");
        fallbacks = group.counter("fallbacks");
        retries = group.counter("retries");
        latencyMs =
                group.histogram("latency_ms", new DescriptiveStatisticsHistogram(LATENCY_WINDOW));
        // Calls started and neither completed nor timed out (a call that completes after its
        // timeout is removed only once).
        inFlight = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        group.gauge("in_flight", (Gauge<Integer>) inFlight::size);
        if (!"local".equals(spec.provider())) {
            ProviderStats stats = ProviderStats.of(spec.provider());
            providerGauge(group, "llm_requests", stats, st -> st.requests);
            providerGauge(group, "llm_cache_hits", stats, st -> st.cacheHits);
            providerGauge(group, "llm_cache_misses", stats, st -> st.cacheMisses);
            providerGauge(group, "llm_retries", stats, st -> st.retries);
            providerGauge(group, "llm_repairs", stats, st -> st.repairs);
            providerGauge(group, "llm_failures", stats, st -> st.failures);
            providerGauge(group, "llm_fallbacks", stats, st -> st.fallbacks);
            providerGauge(group, "llm_circuit_rejections", stats, st -> st.circuitRejections);
            providerGauge(group, "llm_response_log_appends", stats, st -> st.responseLogAppends);
            providerGauge(
                    group,
                    "llm_response_log_append_failures",
                    stats,
                    st -> st.responseLogAppendFailures);
            providerGauge(group, "llm_warmup_records", stats, st -> st.warmupRecords);
            providerGauge(group, "llm_warmup_ms", stats, st -> st.warmupMs);
        }
    }

    @Override
    public void asyncInvoke(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
        int attempt = attempts.merge(out, 1, Integer::sum);
        requests.inc();
        if (attempt > 1) {
            retries.inc();
        }
        inFlight.add(out);
        long startNanos = System.nanoTime();
        CompletableFuture<AgentResult> call;
        try {
            call = provider.analyze(spec.name(), snapshot);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete(
                (result, error) -> {
                    inFlight.remove(out);
                    latencyMs.update((System.nanoTime() - startNanos) / 1_000_000);
                    AgentResult r = result;
                    if (error != null || r == null) {
                        r =
                                AgentResults.failed(
                                        snapshot,
                                        spec.name(),
                                        spec.provider(),
                                        error != null
                                                ? error
                                                : new IllegalStateException("no result"));
                    }
                    if (!AgentStatus.FAILED.equals(r.status()) || attempt >= maxAttempts) {
                        attempts.remove(out); // final: no retry follows
                    }
                    if (AgentStatus.FAILED.equals(r.status())) {
                        failures.inc();
                    } else if (AgentStatus.FALLBACK.equals(r.status())) {
                        fallbacks.inc();
                    } else if (AgentStatus.OK.equals(r.status())) {
                        successes.inc();
                    }
                    promptTokens.inc(r.usage().promptTokens());
                    completionTokens.inc(r.usage().completionTokens());
                    // Flink's retries add to the attempts the provider made (HTTP requests, or 1).
                    out.complete(List.of(r.withAttempts(r.attempts() + attempt - 1)));
                });
    }

    @Override
    public void timeout(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
        timeouts.inc();
        inFlight.remove(out);
        Integer made = attempts.remove(out);
        out.complete(
                List.of(
                        AgentResults.timeout(snapshot, spec.name(), spec.provider(), timeoutMs)
                                .withAttempts(made == null ? 1 : made)));
    }

    private static void providerGauge(
            MetricGroup group,
            String name,
            ProviderStats stats,
            Function<ProviderStats, AtomicLong> counter) {
        group.gauge(name, (Gauge<Long>) () -> counter.apply(stats).get());
    }

    @Override
    public void close() {
        if (provider != null) {
            provider.close();
        }
    }
}

package io.signalstream.functions;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.CallContext;
import io.signalstream.agents.Escalation;
import io.signalstream.agents.Futures;
import io.signalstream.agents.ProviderStats;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Calls the agents of one provider for a conversation snapshot through Flink async I/O: one agent
 * per operator, or, when the provider combines agents, every agent on that provider (the agents of
 * the group scheduled for the snapshot are asked together, in one request for a remote provider,
 * and one result per agent is emitted).
 *
 * <p>The provider is created in {@link #open} and answers on its own threads; the callback only
 * completes the {@link ResultFuture}, so the task thread never blocks. A call that fails becomes a
 * {@code failed} result (the operator's retry strategy retries the snapshot if any of its results
 * failed; agents answered meanwhile come from the provider's response cache) and a call that
 * outlives the operator timeout becomes a {@code timeout} result per agent: an agent can never fail
 * the job or lose the record. Agents with {@code escalate: when-uncertain} ask the local analyzer
 * first and keep its answer when its confidence reaches their threshold.
 *
 * <p>State: for agents with a {@code rolling-summary} context, the previous answer per conversation
 * ({@link RollingPriors}), in union operator state: the input arrives keyed (forward from the keyed
 * conversation state), so on restore each subtask keeps the entries of the key groups it owns,
 * whatever the new parallelism. Attempts of the calls in flight are counted on the heap (Flink's
 * retry calls {@link #asyncInvoke} again with the same {@link ResultFuture}), so each result says
 * how many attempts it took; after a restore, in-flight calls start again at attempt 1.
 *
 * <p>Metrics, in the group {@code agent=<agent>, provider=<provider>} of the operator: counters
 * {@code requests} (calls, retries included), {@code successes} (status ok), {@code failures}
 * (status failed), {@code fallbacks}, {@code timeouts}, {@code retries} (calls Flink's retry
 * strategy made again), {@code answered_locally} (when-uncertain answers the local analyzer kept),
 * {@code prompt_tokens}, {@code completion_tokens}; gauge {@code in_flight}; histogram {@code
 * latency_ms} (wall time of a call, from {@link #asyncInvoke} to its result). For a remote
 * provider, gauges {@code llm_requests}, {@code llm_cache_hits}, {@code llm_cache_misses}, {@code
 * llm_retries}, {@code llm_repairs}, {@code llm_failures}, {@code llm_fallbacks}, {@code
 * llm_circuit_rejections}, {@code llm_response_log_appends}, {@code
 * llm_response_log_append_failures}, {@code llm_warmup_records}, {@code llm_warmup_ms} read the
 * provider's counters of this TaskManager ({@link ProviderStats#of}), which all agents on that
 * provider share.
 */
public class AgentAsyncFunction extends RichAsyncFunction<ConversationSnapshot, AgentResult>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private final List<AgentSpec> agents;
    private final Configuration conf;
    private final long timeoutMs;
    private final int maxAttempts;

    /** Samples kept by the {@code latency_ms} histogram. */
    static final int LATENCY_WINDOW = 1024;

    private transient AgentProvider provider;
    private transient AgentProvider local;
    private transient Map<String, AgentMetrics> metrics;
    private transient Set<ResultFuture<AgentResult>> inFlight;
    private transient Map<ResultFuture<AgentResult>, Integer> attempts;
    private transient RollingPriors priors;

    /**
     * @param spec the agent
     * @param conf job configuration, for the provider's settings
     * @param timeoutMs the async operator's timeout in milliseconds, reported in timeout results
     * @param maxAttempts the retry strategy's attempts in total: a failed result at this attempt is
     *     final
     */
    public AgentAsyncFunction(AgentSpec spec, Configuration conf, long timeoutMs, int maxAttempts) {
        this(List.of(spec), conf, timeoutMs, maxAttempts);
    }

    /**
     * @param agents the agents this operator answers, all on the same provider (one request per
     *     snapshot when the provider combines agents)
     * @param conf job configuration, for the provider's settings
     * @param timeoutMs the async operator's timeout in milliseconds, reported in timeout results
     * @param maxAttempts the retry strategy's attempts in total: a failed result at this attempt is
     *     final
     * @throws IllegalArgumentException if {@code agents} is empty
     */
    public AgentAsyncFunction(
            List<AgentSpec> agents, Configuration conf, long timeoutMs, int maxAttempts) {
        if (agents.isEmpty()) {
            throw new IllegalArgumentException("an agent operator needs at least one agent");
        }
        this.agents = List.copyOf(agents);
        this.conf = conf;
        this.timeoutMs = timeoutMs;
        this.maxAttempts = maxAttempts;
    }

    /** The agents of this operator. */
    public List<AgentSpec> agents() {
        return agents;
    }

    /** The first (or only) agent of this operator. */
    protected AgentSpec spec() {
        return agents.get(0);
    }

    /** Creates the provider in {@link #open}; tests override it to inject slow or failing ones. */
    protected AgentProvider createProvider() {
        return AgentProviders.create(agents, conf);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        priors = new RollingPriors(conf.get(JobOptions.STATE_TTL).toMillis());
        if (agents.stream().noneMatch(a -> a.context() == AgentContext.ROLLING_SUMMARY)) {
            return;
        }
        priors.state =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(
                                        "rolling-priors",
                                        TypeInformation.of(RollingPriors.Entry.class)));
        if (context.isRestored()) {
            var task = getRuntimeContext().getTaskInfo();
            priors.restore(
                    task.getMaxNumberOfParallelSubtasks(),
                    task.getNumberOfParallelSubtasks(),
                    task.getIndexOfThisSubtask());
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        priors.snapshot(System.currentTimeMillis());
    }

    @Override
    public void open(OpenContext openContext) {
        provider = createProvider();
        if (agents.stream().anyMatch(a -> a.escalation() == Escalation.WHEN_UNCERTAIN)) {
            local = new LocalAgentProvider(conf.get(AgentOptions.LOCAL_THREADS));
        }
        if (priors == null) { // tests that open the function without state
            priors = new RollingPriors(conf.get(JobOptions.STATE_TTL).toMillis());
        }
        attempts = Collections.synchronizedMap(new IdentityHashMap<>());
        // Calls started and neither completed nor timed out (a call that completes after its
        // timeout is removed only once).
        inFlight = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        metrics = new HashMap<>();
        for (AgentSpec a : agents) {
            metrics.put(a.name(), new AgentMetrics(a));
        }
    }

    /** The agents of this operator scheduled for the snapshot, in the operator's order. */
    private List<AgentSpec> scheduled(ConversationSnapshot snapshot) {
        if (agents.size() == 1) {
            return agents;
        }
        List<AgentSpec> out = new ArrayList<>(agents.size());
        for (AgentSpec a : agents) {
            if (snapshot.scheduledAgents().contains(a.name())) {
                out.add(a);
            }
        }
        return out;
    }

    @Override
    public void asyncInvoke(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
        List<AgentSpec> due = scheduled(snapshot);
        if (due.isEmpty()) {
            out.complete(List.of());
            return;
        }
        int attempt = attempts.merge(out, 1, Integer::sum);
        for (AgentSpec a : due) {
            AgentMetrics m = metrics.get(a.name());
            m.requests.inc();
            if (attempt > 1) {
                m.retries.inc();
            }
        }
        inFlight.add(out);
        long startNanos = System.nanoTime();
        CallContext ctx = priors.context(snapshot.conversationKey(), due);
        List<CompletableFuture<AgentResult>> calls = start(due, snapshot, ctx);
        CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0]))
                .whenComplete(
                        (ignored, e) -> {
                            inFlight.remove(out);
                            long latency = (System.nanoTime() - startNanos) / 1_000_000;
                            List<AgentResult> results = new ArrayList<>(due.size());
                            boolean anyFailed = false;
                            for (int i = 0; i < due.size(); i++) {
                                AgentResult r = settle(due.get(i), snapshot, calls.get(i));
                                anyFailed |= AgentStatus.FAILED.equals(r.status());
                                metrics.get(r.agent()).count(r, latency);
                                priors.remember(snapshot.conversationKey(), due.get(i), r);
                                // Flink's retries add to the attempts the provider made.
                                results.add(r.withAttempts(r.attempts() + attempt - 1));
                            }
                            if (!anyFailed || attempt >= maxAttempts) {
                                attempts.remove(out); // final: no retry follows
                            }
                            out.complete(results);
                        });
    }

    /**
     * Starts the calls: agents that escalate only when uncertain ask the local analyzer first and
     * keep a confident answer; the rest go to the provider together.
     */
    private List<CompletableFuture<AgentResult>> start(
            List<AgentSpec> due, ConversationSnapshot snapshot, CallContext ctx) {
        List<CompletableFuture<AgentResult>> calls = new ArrayList<>(due.size());
        List<String> names = new ArrayList<>(due.size());
        for (AgentSpec a : due) {
            names.add(a.name());
        }
        boolean escalating =
                local != null
                        && due.stream().anyMatch(a -> a.escalation() == Escalation.WHEN_UNCERTAIN);
        if (!escalating) {
            try {
                return provider.analyzeAll(names, snapshot, ctx);
            } catch (RuntimeException e) {
                for (int i = 0; i < due.size(); i++) {
                    calls.add(CompletableFuture.failedFuture(e));
                }
                return calls;
            }
        }
        List<CompletableFuture<AgentResult>> firstTries = new ArrayList<>(due.size());
        for (AgentSpec a : due) {
            firstTries.add(
                    a.escalation() == Escalation.WHEN_UNCERTAIN
                            ? local.analyze(a.name(), snapshot)
                            : null);
        }
        CompletableFuture<Void> localDone =
                CompletableFuture.allOf(
                        firstTries.stream()
                                .filter(f -> f != null)
                                .map(f -> f.exceptionally(t -> null))
                                .toArray(CompletableFuture<?>[]::new));
        List<CompletableFuture<AgentResult>> results = new ArrayList<>(due.size());
        for (int i = 0; i < due.size(); i++) {
            results.add(new CompletableFuture<>());
        }
        localDone.whenComplete(
                (v, e) -> {
                    List<String> ask = new ArrayList<>();
                    List<Integer> at = new ArrayList<>();
                    for (int i = 0; i < due.size(); i++) {
                        AgentResult first =
                                firstTries.get(i) == null ? null : firstTries.get(i).getNow(null);
                        if (first != null && confident(first, due.get(i))) {
                            metrics.get(due.get(i).name()).answeredLocally.inc();
                            results.get(i).complete(first);
                        } else {
                            ask.add(due.get(i).name());
                            at.add(i);
                        }
                    }
                    if (ask.isEmpty()) {
                        return;
                    }
                    List<CompletableFuture<AgentResult>> asked;
                    try {
                        asked = provider.analyzeAll(ask, snapshot, ctx);
                    } catch (RuntimeException ex) {
                        at.forEach(i -> results.get(i).completeExceptionally(ex));
                        return;
                    }
                    for (int j = 0; j < at.size(); j++) {
                        CompletableFuture<AgentResult> target = results.get(at.get(j));
                        Futures.forward(asked.get(j), target);
                    }
                });
        return results;
    }

    /** Whether a local answer is confident enough to keep: its {@code confidence} ≥ threshold. */
    static boolean confident(AgentResult r, AgentSpec spec) {
        if (!r.hasAnswer()) {
            return false;
        }
        Object c = r.result().get("confidence");
        return c instanceof Number n && n.doubleValue() >= spec.escalationThreshold();
    }

    private static AgentResult settle(
            AgentSpec a, ConversationSnapshot snapshot, CompletableFuture<AgentResult> call) {
        AgentResult r = null;
        Throwable error = null;
        try {
            r = call.getNow(null);
        } catch (CompletionException | CancellationException e) {
            error = e.getCause() != null ? e.getCause() : e;
        }
        if (error != null || r == null) {
            return AgentResults.failed(
                    snapshot,
                    a.name(),
                    a.provider(),
                    error != null ? error : new IllegalStateException("no result"));
        }
        return r;
    }

    @Override
    public void timeout(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
        inFlight.remove(out);
        Integer made = attempts.remove(out);
        List<AgentResult> results = new ArrayList<>();
        for (AgentSpec a : scheduled(snapshot)) {
            metrics.get(a.name()).timeouts.inc();
            results.add(
                    AgentResults.timeout(snapshot, a.name(), a.provider(), timeoutMs)
                            .withAttempts(made == null ? 1 : made));
        }
        out.complete(results);
    }

    /** The metrics of one agent, in the group {@code agent=<agent>, provider=<provider>}. */
    private final class AgentMetrics {
        final Counter timeouts;
        final Counter failures;
        final Counter promptTokens;
        final Counter completionTokens;
        final Counter requests;
        final Counter successes;
        final Counter fallbacks;
        final Counter retries;
        final Counter answeredLocally;
        final Histogram latencyMs;

        AgentMetrics(AgentSpec spec) {
            MetricGroup group =
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
            answeredLocally = group.counter("answered_locally");
            latencyMs =
                    group.histogram(
                            "latency_ms", new DescriptiveStatisticsHistogram(LATENCY_WINDOW));
            group.gauge("in_flight", (Gauge<Integer>) inFlight::size);
            if (!LocalAgentProvider.NAME.equals(spec.provider())) {
                ProviderStats stats = ProviderStats.of(spec.provider());
                providerGauge(group, "llm_requests", stats, st -> st.requests);
                providerGauge(group, "llm_cache_hits", stats, st -> st.cacheHits);
                providerGauge(group, "llm_cache_misses", stats, st -> st.cacheMisses);
                providerGauge(group, "llm_retries", stats, st -> st.retries);
                providerGauge(group, "llm_repairs", stats, st -> st.repairs);
                providerGauge(group, "llm_failures", stats, st -> st.failures);
                providerGauge(group, "llm_fallbacks", stats, st -> st.fallbacks);
                providerGauge(group, "llm_circuit_rejections", stats, st -> st.circuitRejections);
                providerGauge(
                        group, "llm_response_log_appends", stats, st -> st.responseLogAppends);
                providerGauge(
                        group,
                        "llm_response_log_append_failures",
                        stats,
                        st -> st.responseLogAppendFailures);
                providerGauge(group, "llm_warmup_records", stats, st -> st.warmupRecords);
                providerGauge(group, "llm_warmup_ms", stats, st -> st.warmupMs);
            }
        }

        void count(AgentResult r, long latency) {
            latencyMs.update(latency);
            if (AgentStatus.FAILED.equals(r.status())) {
                failures.inc();
            } else if (AgentStatus.FALLBACK.equals(r.status())) {
                fallbacks.inc();
            } else if (AgentStatus.OK.equals(r.status())) {
                successes.inc();
            }
            promptTokens.inc(r.usage().promptTokens());
            completionTokens.inc(r.usage().completionTokens());
        }
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
        try {
            if (provider != null) {
                provider.close();
            }
        } finally {
            if (local != null) {
                local.close();
            }
        }
    }
}

package io.signalstream.functions;

import io.signalstream.events.AgentResult;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.Feedback;
import io.signalstream.events.LearningSignal;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Joins human feedback with the agent result it judges, keyed by {@code tenant_id:conversation_id}
 * (so feedback naming another tenant's conversation can never match), and emits one {@link
 * LearningSignal} per feedback id.
 *
 * <p>Whichever side arrives first waits: each agent result is kept per (agent, version) for {@code
 * ttl} (an idle TTL, state {@code results}); a feedback whose result is not there yet waits in
 * {@code pending-feedback} (and its size in {@code pending-feedback-count}, so an agent result
 * costs one point read when nothing waits) with a processing-time timer at arrival + {@code ttl}.
 * Processing time, because the job has no watermarks and a correction made hours after the
 * conversation must still find its result: what bounds the wait is how long the operator keeps
 * things, not event time. When the timer fires first, the feedback goes to the {@link
 * #DEAD_LETTERS} side output (stage {@value #STAGE}) with the reason:
 *
 * <ul>
 *   <li>{@code wrong_version}: the conversation has results, but none of that agent for that
 *       version (the message names the versions it has);
 *   <li>{@code unknown_conversation}: no result of the conversation at all within the TTL.
 * </ul>
 *
 * Reasons given at once: {@code unknown_agent} (not an enabled agent), {@code no_answer} (the
 * judged result failed or timed out, so there is no prediction to judge), {@code unknown_field}
 * (the result has no value at {@code field}).
 *
 * <p>A feedback id seen before (signalled, dead-lettered or pending) is dropped and counted as
 * {@code feedback_duplicates}; ids are remembered for {@code ttl} ({@code seen-feedback}). Pending
 * feedback has no TTL of its own: its timer removes it, and timers are part of the checkpoint, so a
 * restore neither loses nor repeats it.
 *
 * <p>Metrics: per {@code agent, provider, model, prompt_version} group the counters {@code
 * feedback_total} and {@code feedback_agreed} and the gauge {@code feedback_accuracy} (agreed /
 * total since the subtask started, NaN before the first signal; use the counters for rates across
 * subtasks and restarts); {@code feedback_duplicates}; {@code dead_letters.reason.<r>.count}.
 */
public class FeedbackJoinFunction
        extends KeyedCoProcessFunction<String, Feedback, AgentResult, LearningSignal> {

    private static final long serialVersionUID = 1L;

    /** Side output of feedback that judges no result. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("feedback-join-dead-letters", TypeInformation.of(DeadLetter.class));

    /** Stage name written in dead letters from this function. */
    public static final String STAGE = "feedback-join";

    private final Duration ttl;
    private final TreeSet<String> agents;

    private transient MapState<String, AgentResult> results;
    private transient MapState<String, PendingFeedback> pending;
    private transient ValueState<Integer> pendingCount;
    private transient MapState<String, Boolean> seen;
    private transient Counter duplicates;
    private transient MetricGroup deadLetterMetrics;
    private transient Map<String, Counter> deadLettersByReason;
    private transient Map<List<String>, Accuracy> accuracy;

    /**
     * @param ttl how long results are kept and feedback waits for its result (processing time)
     * @param agents the enabled agents; feedback naming another is dead-lettered at once
     */
    public FeedbackJoinFunction(Duration ttl, Collection<String> agents) {
        this.ttl = ttl;
        this.agents = new TreeSet<>(agents);
    }

    @Override
    public void open(OpenContext openContext) {
        MapStateDescriptor<String, AgentResult> resultsDesc =
                new MapStateDescriptor<>(
                        "results", Types.STRING, TypeInformation.of(AgentResult.class));
        MapStateDescriptor<String, PendingFeedback> pendingDesc =
                new MapStateDescriptor<>(
                        "pending-feedback",
                        Types.STRING,
                        TypeInformation.of(PendingFeedback.class));
        MapStateDescriptor<String, Boolean> seenDesc =
                new MapStateDescriptor<>("seen-feedback", Types.STRING, Types.BOOLEAN);
        resultsDesc.enableTimeToLive(IdleStateTtl.of(ttl));
        seenDesc.enableTimeToLive(IdleStateTtl.of(ttl));
        results = getRuntimeContext().getMapState(resultsDesc);
        pending = getRuntimeContext().getMapState(pendingDesc);
        pendingCount =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("pending-feedback-count", Types.INT));
        seen = getRuntimeContext().getMapState(seenDesc);
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        duplicates = metrics.counter("feedback_duplicates");
        deadLetterMetrics = metrics.addGroup("dead_letters");
        deadLettersByReason = new HashMap<>();
        accuracy = new HashMap<>();
    }

    @Override
    public void processElement1(Feedback f, Context ctx, Collector<LearningSignal> out)
            throws Exception {
        if (seen.contains(f.feedbackId()) || pending.contains(f.feedbackId())) {
            duplicates.inc();
            return;
        }
        if (!agents.contains(f.agent())) {
            seen.put(f.feedbackId(), true);
            reject(
                    f,
                    "unknown_agent",
                    "agent '" + f.agent() + "' is not one of the enabled agents " + agents,
                    ctx);
            return;
        }
        AgentResult r = results.get(resultKey(f.agent(), f.version()));
        if (r != null) {
            seen.put(f.feedbackId(), true);
            judge(f, r, ctx, out);
            return;
        }
        long deadline = ctx.timerService().currentProcessingTime() + ttl.toMillis();
        pending.put(f.feedbackId(), new PendingFeedback(f, deadline));
        addPending(1);
        ctx.timerService().registerProcessingTimeTimer(deadline);
    }

    @Override
    public void processElement2(AgentResult r, Context ctx, Collector<LearningSignal> out)
            throws Exception {
        results.put(resultKey(r.agent(), r.version()), r);
        // Every agent result passes here: one point read when no feedback waits (the common
        // case), instead of a RocksDB iterator over the pending map.
        if (pendingCount() == 0) {
            return;
        }
        List<Feedback> matched = new ArrayList<>();
        for (PendingFeedback p : pending.values()) {
            Feedback f = p.feedback();
            if (f.version() == r.version() && f.agent().equals(r.agent())) {
                matched.add(f);
            }
        }
        for (Feedback f : matched) {
            pending.remove(f.feedbackId());
            seen.put(f.feedbackId(), true);
            judge(f, r, ctx, out);
        }
        addPending(-matched.size());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<LearningSignal> out)
            throws Exception {
        List<Feedback> expired = new ArrayList<>();
        for (Iterator<PendingFeedback> it = pending.values().iterator(); it.hasNext(); ) {
            PendingFeedback p = it.next();
            if (p.deadlineMs() <= timestamp) {
                expired.add(p.feedback());
            }
        }
        if (expired.isEmpty()) {
            return;
        }
        TreeSet<String> have = new TreeSet<>();
        for (String k : results.keys()) {
            have.add(k);
        }
        addPending(-expired.size());
        for (Feedback f : expired) {
            pending.remove(f.feedbackId());
            seen.put(f.feedbackId(), true);
            if (have.isEmpty()) {
                reject(
                        f,
                        "unknown_conversation",
                        "no agent result of this conversation within " + ttl,
                        ctx);
            } else {
                List<Long> versions = new ArrayList<>();
                for (String k : have) {
                    if (k.startsWith(f.agent() + "/")) {
                        versions.add(Long.parseLong(k.substring(f.agent().length() + 1)));
                    }
                }
                versions.sort(null);
                reject(
                        f,
                        "wrong_version",
                        "no "
                                + f.agent()
                                + " result for version "
                                + f.version()
                                + " within "
                                + ttl
                                + "; it has "
                                + f.agent()
                                + " results for versions "
                                + abbreviated(versions),
                        ctx);
            }
        }
    }

    private int pendingCount() throws Exception {
        Integer n = pendingCount.value();
        return n == null ? 0 : n;
    }

    private void addPending(int delta) throws Exception {
        int n = pendingCount() + delta;
        if (n <= 0) {
            pendingCount.clear();
        } else {
            pendingCount.update(n);
        }
    }

    /** Emits the signal of a feedback and the result it judges, or dead-letters the feedback. */
    private void judge(Feedback f, AgentResult r, Context ctx, Collector<LearningSignal> out) {
        if (!r.hasAnswer()) {
            reject(
                    f,
                    "no_answer",
                    "the "
                            + f.agent()
                            + " result of version "
                            + f.version()
                            + " has status "
                            + r.status()
                            + " and no answer to judge",
                    ctx);
            return;
        }
        Object predicted = valueAt(r.result(), f.field());
        if (predicted == MISSING) {
            reject(
                    f,
                    "unknown_field",
                    "the " + f.agent() + " result has no field '" + f.field() + "'",
                    ctx);
            return;
        }
        String predictedJson = Json.toString(predicted);
        boolean agreed = agrees(predictedJson, f.expected());
        out.collect(
                new LearningSignal(
                        signalId(f.tenantId(), f.conversationId(), f.feedbackId()),
                        f.tenantId(),
                        f.conversationId(),
                        f.version(),
                        f.agent(),
                        f.field(),
                        predictedJson,
                        f.expected(),
                        agreed,
                        r.provider(),
                        r.model(),
                        r.promptVersion(),
                        r.promptHash(),
                        f.feedbackId(),
                        f.userId(),
                        f.timestamp()));
        accuracy.computeIfAbsent(
                        List.of(
                                f.agent(),
                                orUnknown(r.provider()),
                                orUnknown(r.model()),
                                orUnknown(r.promptVersion())),
                        this::newAccuracy)
                .count(agreed);
    }

    private Accuracy newAccuracy(List<String> k) {
        MetricGroup g =
                getRuntimeContext()
                        .getMetricGroup()
                        .addGroup("agent", k.get(0))
                        .addGroup("provider", k.get(1))
                        .addGroup("model", k.get(2))
                        .addGroup("prompt_version", k.get(3));
        Accuracy a = new Accuracy(g.counter("feedback_total"), g.counter("feedback_agreed"));
        g.gauge("feedback_accuracy", (Gauge<Double>) a::value);
        return a;
    }

    private void reject(Feedback f, String reason, String message, Context ctx) {
        deadLettersByReason
                .computeIfAbsent(
                        reason, x -> deadLetterMetrics.addGroup("reason", x).counter("count"))
                .inc();
        ctx.output(
                DEAD_LETTERS,
                new DeadLetter(
                        STAGE,
                        reason,
                        message,
                        f.source(),
                        f.tenantId(),
                        Json.toString(f),
                        "utf8",
                        Instant.ofEpochMilli(ctx.timerService().currentProcessingTime())));
    }

    private static final Object MISSING = new Object();

    /**
     * The value at a dotted path of a JSON-like map: map keys, and list indexes for lists.
     *
     * @return the value (may be {@code null} for a JSON null), or {@link #MISSING}
     */
    static Object valueAt(Map<String, Object> result, String path) {
        Object cur = result;
        for (String part : path.split("\\.")) {
            if (cur instanceof Map<?, ?> m) {
                if (!m.containsKey(part)) {
                    return MISSING;
                }
                cur = m.get(part);
            } else if (cur instanceof List<?> l && part.chars().allMatch(Character::isDigit)) {
                int i;
                try {
                    i = Integer.parseInt(part);
                } catch (NumberFormatException e) {
                    return MISSING;
                }
                if (i >= l.size()) {
                    return MISSING;
                }
                cur = l.get(i);
            } else {
                return MISSING;
            }
        }
        return cur;
    }

    /**
     * Whether a prediction agrees with the expected value, both JSON texts: numbers by value
     * ({@code 1} = {@code 1.0}), strings ignoring case and surrounding blanks, anything else by
     * JSON equality.
     */
    public static boolean agrees(String predictedJson, String expectedJson) {
        JsonNode p;
        JsonNode e;
        try {
            p = Json.MAPPER.readTree(predictedJson);
            e = Json.MAPPER.readTree(expectedJson);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        if (p.isNumber() && e.isNumber()) {
            return p.decimalValue().compareTo(e.decimalValue()) == 0;
        }
        if (p.isTextual() && e.isTextual()) {
            return p.asText().trim().equalsIgnoreCase(e.asText().trim());
        }
        return p.equals(e);
    }

    /**
     * The deterministic signal id of a feedback: a name-based (type 3) UUID of tenant, conversation
     * and feedback id, so a replay or a re-sent copy yields the same id.
     */
    public static String signalId(String tenantId, String conversationId, String feedbackId) {
        return UUID.nameUUIDFromBytes(
                        String.join(
                                        "\u0000",
                                        "learning-signal",
                                        tenantId,
                                        conversationId,
                                        feedbackId)
                                .getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    private static String resultKey(String agent, long version) {
        return agent + "/" + version;
    }

    private static String orUnknown(String s) {
        return s == null || s.isBlank() ? "unknown" : s;
    }

    private static String abbreviated(List<Long> versions) {
        if (versions.size() <= 10) {
            return versions.toString();
        }
        return versions.subList(0, 5)
                + "…"
                + versions.subList(versions.size() - 5, versions.size());
    }

    /**
     * A feedback waiting for its result.
     *
     * @param feedback the feedback
     * @param deadlineMs processing time at which it is dead-lettered if still unmatched
     */
    public record PendingFeedback(Feedback feedback, long deadlineMs) {}

    /** Agreement counters of one (agent, provider, model, prompt version). */
    private static final class Accuracy {
        private final Counter total;
        private final Counter agreed;

        Accuracy(Counter total, Counter agreed) {
            this.total = total;
            this.agreed = agreed;
        }

        void count(boolean agree) {
            total.inc();
            if (agree) {
                agreed.inc();
            }
        }

        double value() {
            long t = total.getCount();
            return t == 0 ? Double.NaN : (double) agreed.getCount() / t;
        }
    }
}

package io.signalstream.functions;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.LineageRecord;
import io.signalstream.events.SourceRef;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Joins the agents' results with the conversation snapshots, keyed by {@code
 * tenant_id:conversation_id}, and emits exactly one {@link AggregatedIntelligence} per version,
 * plus its {@link LineageRecord} on the {@link #LINEAGE} side output.
 *
 * <p>The snapshot of a version is the join anchor: its {@code scheduled_agents} say which results
 * to expect. A version is emitted when every expected agent has answered, or when its join window
 * (processing time, from the snapshot's arrival) closes, then with {@code complete=false} and the
 * {@code missing_agents}. Versions are emitted in order, so the compacted output topic ends on the
 * newest version of each conversation; a version whose window closed does not wait for an earlier
 * one whose snapshot never came.
 *
 * <p>Each output carries the newest answer of every agent at or before its version. A result for a
 * version that was already emitted is stale (a newer one has been published) and is ignored; it is
 * still on its {@code support.ai.<agent>} topic.
 *
 * <p>Keyed state (idle TTL): {@code last-emitted-version}, {@code anchors} (version → snapshot and
 * deadline), {@code pending-results} ({@code version/agent} → result, results may arrive before
 * their snapshot), {@code latest-answers} (agent → newest answer and its input).
 *
 * <p>Metrics: counters {@code aggregated_complete}, {@code aggregated_partial}, {@code
 * stale_results}; histograms {@code end_to_end_latency_ms} (from the Kafka record time of the input
 * message, which the source puts on the stream record and every operator keeps, to the emission of
 * its aggregated output: what a reader of the output topic waits, minus the checkpoint that commits
 * it) and {@code join_wait_ms} (from the snapshot's arrival here to the emission). The input record
 * time is held on the heap per pending version, not in state: a version pending across a restore is
 * not measured. The message's own {@code timestamp} is not used, since replayed or late data would
 * make the latency meaningless.
 */
public class IntelligenceAggregator
        extends KeyedCoProcessFunction<
                String, ConversationSnapshot, AgentResult, AggregatedIntelligence> {

    private static final long serialVersionUID = 1L;

    /** Side output of lineage records, one per aggregated output. */
    public static final OutputTag<LineageRecord> LINEAGE =
            new OutputTag<>("lineage", TypeInformation.of(LineageRecord.class));

    /** {@code source} of lineage records. */
    public static final String LINEAGE_SOURCE = "signalstream/conversation-intelligence";

    private final Duration joinWindow;
    private final Duration ttl;
    private final String outputTopic;

    private transient ValueState<Long> lastEmitted;
    private transient MapState<Long, PendingAnchor> anchors;
    private transient MapState<String, AgentResult> pending;
    private transient MapState<String, LatestAnswer> latest;
    private transient Counter complete;
    private transient Counter partial;
    private transient Counter stale;
    private transient Histogram endToEndLatencyMs;
    private transient Histogram joinWaitMs;
    private transient Map<String, Long> inputRecordTimes;

    /** Samples kept by the latency histograms. */
    static final int LATENCY_WINDOW = 1024;

    /** Bound of the heap map of input record times (it is cleared if ever exceeded). */
    static final int MAX_TRACKED_VERSIONS = 100_000;

    /**
     * @param joinWindow how long a version waits for its agents (processing time)
     * @param ttl idle time after which a conversation's state expires
     * @param outputTopic the aggregated topic, named in lineage records
     */
    public IntelligenceAggregator(Duration joinWindow, Duration ttl, String outputTopic) {
        this.joinWindow = joinWindow;
        this.ttl = ttl;
        this.outputTopic = outputTopic;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttlConfig = IdleStateTtl.of(ttl);
        ValueStateDescriptor<Long> last =
                new ValueStateDescriptor<>("last-emitted-version", Types.LONG);
        MapStateDescriptor<Long, PendingAnchor> anchorDesc =
                new MapStateDescriptor<>(
                        "anchors", Types.LONG, TypeInformation.of(PendingAnchor.class));
        MapStateDescriptor<String, AgentResult> pendingDesc =
                new MapStateDescriptor<>(
                        "pending-results", Types.STRING, TypeInformation.of(AgentResult.class));
        MapStateDescriptor<String, LatestAnswer> latestDesc =
                new MapStateDescriptor<>(
                        "latest-answers", Types.STRING, TypeInformation.of(LatestAnswer.class));
        last.enableTimeToLive(ttlConfig);
        anchorDesc.enableTimeToLive(ttlConfig);
        pendingDesc.enableTimeToLive(ttlConfig);
        latestDesc.enableTimeToLive(ttlConfig);
        lastEmitted = getRuntimeContext().getState(last);
        anchors = getRuntimeContext().getMapState(anchorDesc);
        pending = getRuntimeContext().getMapState(pendingDesc);
        latest = getRuntimeContext().getMapState(latestDesc);
        var metrics = getRuntimeContext().getMetricGroup();
        complete = metrics.counter("aggregated_complete");
        partial = metrics.counter("aggregated_partial");
        stale = metrics.counter("stale_results");
        endToEndLatencyMs =
                metrics.histogram(
                        "end_to_end_latency_ms",
                        new DescriptiveStatisticsHistogram(LATENCY_WINDOW));
        joinWaitMs =
                metrics.histogram(
                        "join_wait_ms", new DescriptiveStatisticsHistogram(LATENCY_WINDOW));
        inputRecordTimes = new HashMap<>();
    }

    @Override
    public void processElement1(
            ConversationSnapshot snapshot, Context ctx, Collector<AggregatedIntelligence> out)
            throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        if (snapshot.version() <= lastEmittedVersion()) {
            // The upstream state expired and the conversation started again at version 1:
            // start the aggregation of this key afresh as well.
            lastEmitted.update(snapshot.version() - 1);
            anchors.clear();
            pending.clear();
            latest.clear();
        }
        long deadline = now + joinWindow.toMillis();
        if (ctx.timestamp() != null) {
            if (inputRecordTimes.size() >= MAX_TRACKED_VERSIONS) {
                inputRecordTimes.clear();
            }
            inputRecordTimes.put(
                    pendingKey(snapshot.version(), ctx.getCurrentKey()), ctx.timestamp());
        }
        anchors.put(snapshot.version(), new PendingAnchor(snapshot, deadline));
        ctx.timerService().registerProcessingTimeTimer(deadline);
        emitReady(now, ctx, out);
    }

    @Override
    public void processElement2(
            AgentResult result, Context ctx, Collector<AggregatedIntelligence> out)
            throws Exception {
        if (result.version() <= lastEmittedVersion()) {
            stale.inc();
            return;
        }
        pending.put(pendingKey(result.version(), result.agent()), result);
        emitReady(ctx.timerService().currentProcessingTime(), ctx, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AggregatedIntelligence> out)
            throws Exception {
        emitReady(timestamp, ctx, out);
    }

    /** Emits, in version order, every version that is complete or whose join window closed. */
    private void emitReady(long now, Context ctx, Collector<AggregatedIntelligence> out)
            throws Exception {
        while (true) {
            long last = lastEmittedVersion();
            PendingAnchor anchor = anchors.get(last + 1);
            if (anchor == null) {
                anchor = earliestExpired(now);
                if (anchor == null) {
                    return;
                }
            } else if (anchor.deadlineMs() > now && !ready(anchor.snapshot())) {
                return;
            }
            emit(anchor.snapshot(), now, ctx, out);
        }
    }

    private PendingAnchor earliestExpired(long now) throws Exception {
        PendingAnchor earliest = null;
        for (PendingAnchor a : anchors.values()) {
            if (earliest == null || a.snapshot().version() < earliest.snapshot().version()) {
                earliest = a;
            }
        }
        return earliest != null && earliest.deadlineMs() <= now ? earliest : null;
    }

    private boolean ready(ConversationSnapshot s) throws Exception {
        for (String agent : s.scheduledAgents()) {
            if (!pending.contains(pendingKey(s.version(), agent))) {
                return false;
            }
        }
        return true;
    }

    private void emit(
            ConversationSnapshot s, long now, Context ctx, Collector<AggregatedIntelligence> out)
            throws Exception {
        long v = s.version();
        List<String> missing = new ArrayList<>();
        Map<String, String> status = new TreeMap<>();
        Map<String, LineageRecord.AgentLineage> agentLineage = new TreeMap<>();
        for (String agent : s.scheduledAgents()) {
            AgentResult r = pending.get(pendingKey(v, agent));
            if (r == null) {
                missing.add(agent);
                status.put(agent, AggregatedIntelligence.MISSING);
                continue;
            }
            pending.remove(pendingKey(v, agent));
            status.put(agent, r.status());
            agentLineage.put(agent, LineageRecord.AgentLineage.of(r));
            if (r.hasAnswer()) {
                latest.put(agent, new LatestAnswer(r, s.source()));
            }
        }

        Map<String, Map<String, Object>> answers = new TreeMap<>();
        TreeMap<Long, LineageRecord.Input> inputs = new TreeMap<>();
        for (Map.Entry<String, LatestAnswer> e : latest.entries()) {
            AgentResult r = e.getValue().result();
            answers.put(e.getKey(), r.result());
            status.putIfAbsent(e.getKey(), r.status());
            agentLineage.putIfAbsent(e.getKey(), LineageRecord.AgentLineage.of(r));
            SourceRef src = e.getValue().source();
            inputs.put(
                    r.version(),
                    new LineageRecord.Input(
                            src.topic(),
                            src.partition(),
                            src.offset(),
                            r.messageId(),
                            r.version()));
        }
        SourceRef src = s.source();
        inputs.put(
                v,
                new LineageRecord.Input(
                        src.topic(),
                        src.partition(),
                        src.offset(),
                        s.lastMessage().messageId(),
                        v));
        List<String> messageIds = new ArrayList<>();
        for (LineageRecord.Input in : inputs.values()) {
            messageIds.add(in.messageId());
        }

        Instant at = Instant.ofEpochMilli(now);
        out.collect(
                new AggregatedIntelligence(
                        s.tenantId(),
                        s.conversationId(),
                        v,
                        answers.get("sentiment"),
                        answers.get("pii"),
                        answers.get("insights"),
                        answers.get("summary"),
                        new TreeMap<>(answers),
                        missing.isEmpty(),
                        missing,
                        status,
                        messageIds,
                        at));
        String key = s.conversationKey();
        ctx.output(
                LINEAGE,
                new LineageRecord(
                        lineageEventId(key, v),
                        LineageRecord.EVENT_TYPE,
                        s.tenantId(),
                        at,
                        LINEAGE_SOURCE,
                        new LineageRecord.Data(
                                new LineageRecord.Output(outputTopic, key, v),
                                new ArrayList<>(inputs.values()),
                                agentLineage)));
        (missing.isEmpty() ? complete : partial).inc();
        Long inputTime = inputRecordTimes.remove(pendingKey(v, key));
        if (inputTime != null) {
            endToEndLatencyMs.update(Math.max(0, now - inputTime));
        }
        PendingAnchor emitted = anchors.get(v);
        if (emitted != null) {
            joinWaitMs.update(Math.max(0, now - (emitted.deadlineMs() - joinWindow.toMillis())));
        }
        anchors.remove(v);
        lastEmitted.update(v);
        // The version's timer is left to fire as a no-op: another version may share its
        // deadline, and deleting it would delete theirs.
    }

    private long lastEmittedVersion() throws Exception {
        Long v = lastEmitted.value();
        return v == null ? 0 : v;
    }

    private static String pendingKey(long version, String agent) {
        return version + "/" + agent;
    }

    /** Deterministic event id of the lineage record of (conversation key, version). */
    static String lineageEventId(String key, long version) {
        return UUID.nameUUIDFromBytes((key + "\u0000" + version).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    /**
     * A snapshot waiting for its agents.
     *
     * @param snapshot the join anchor
     * @param deadlineMs processing time at which its join window closes
     */
    public record PendingAnchor(ConversationSnapshot snapshot, long deadlineMs) {}

    /**
     * The newest answer of an agent and the input record of the version it answered.
     *
     * @param result the agent's result
     * @param source Kafka coordinates of that version's message
     */
    public record LatestAnswer(AgentResult result, SourceRef source) {}
}

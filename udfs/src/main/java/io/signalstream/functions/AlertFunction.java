package io.signalstream.functions;

import io.signalstream.config.AlertOptions;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the live intelligence of a conversation into {@link Alert}s, keyed by {@code
 * tenant_id:conversation_id}. Input 1 is the conversation snapshots (who sent each message and
 * when), input 2 the aggregated intelligence, one record per version.
 *
 * <p><b>Which record a rule is evaluated on.</b> Every rule but {@code reply_overdue} is evaluated
 * on the aggregated record of a version, together with that version's snapshot (its sender and
 * scheduled agents); an aggregated record that arrives before its snapshot waits for it in state.
 * Every record of a version is evaluated: should the aggregator emit a partial record and later a
 * complete one for the same version, the answers that came late are evaluated then, and an answer
 * already counted is not counted again. The alert carries that record's version, so it references a
 * record that exists on {@code support.ai.aggregated}: the alert is emitted after the aggregated
 * record left the aggregator, and both sinks commit with the same checkpoints. Partial records
 * ({@code complete=false}) are evaluated like complete ones, but an agent's answer counts as new
 * for a version only if the agent was scheduled for it and answered ({@code ok} or {@code
 * fallback}); a carried-forward answer changes nothing.
 *
 * <p><b>Rules</b> (thresholds per tenant, see {@link AlertOptions}):
 *
 * <ul>
 *   <li>{@code escalation_requested} (warning): {@code insights.requires_escalation} is true;
 *       clears when it is false.
 *   <li>{@code critical_urgency} (critical): {@code insights.urgency} is {@code critical}; clears
 *       on any other urgency.
 *   <li>{@code sentiment_deteriorating}: a customer message labelled negative that is the N-th
 *       negative customer message in a row (warning), or whose score is more than D below the
 *       customer's previous message (info); clears with a customer message not labelled negative.
 *   <li>{@code pii_shared} (warning): a customer message whose PII answer says {@code has_pii};
 *       clears with a customer message without PII.
 *   <li>{@code reply_overdue} (warning): a customer message without an agent reply within the SLA;
 *       the first unanswered customer message starts the wait, the agent's reply ends it (and
 *       clears the episode). It carries the version of that customer message and is held back until
 *       the aggregated record of that version has been seen.
 * </ul>
 *
 * <p>An alert fires once per episode: when its condition becomes true. While the episode is open it
 * does not fire again; once the condition cleared, the next time it holds is a new episode with a
 * new {@link Alert#idOf deterministic id}.
 *
 * <p><b>Why processing-time timers for {@code reply_overdue}.</b> The job runs without watermarks
 * (sources are replayed, backfilled and idle per conversation), so an event-time timer would fire
 * only when some later message moves the watermark, which is exactly what does not happen while a
 * customer waits. A processing-time timer fires {@code sla} after the message arrived even if the
 * conversation is silent, and is kept in keyed state, so it survives a restore (a restored timer
 * that is already due fires right away). The message timestamps are used as well: when the next
 * message of the conversation is stamped more than {@code sla} after the waiting customer message
 * (a replay, a backlog), the SLA was missed and the alert fires then, without waiting for the
 * timer.
 *
 * <p>Keyed state (idle TTL): {@code alert-track} (scalars of the conversation: versions seen, the
 * open episodes, the negative run, the waiting customer message, a held-back overdue alert), {@code
 * turns} (version → sender and scheduled agents, until its aggregated record arrives), {@code
 * early-aggregated} (aggregated records waiting for their snapshot). Metrics: counter {@code
 * alerts_raised} per {@code alert_type}.
 */
public class AlertFunction
        extends KeyedCoProcessFunction<
                String, ConversationSnapshot, AggregatedIntelligence, Alert> {

    private static final long serialVersionUID = 1L;

    /** Longest negative run whose message ids are kept as evidence. */
    static final int MAX_EVIDENCE = 20;

    private final AlertOptions.Rules rules;
    private final Duration ttl;

    private transient ValueState<Track> track;
    private transient MapState<Long, Turn> turns;
    private transient MapState<Long, AggregatedIntelligence> early;
    private transient Map<String, Counter> raised;

    /**
     * @param rules the alert rules and thresholds, per tenant
     * @param ttl idle time after which a conversation's alert state expires
     */
    public AlertFunction(AlertOptions.Rules rules, Duration ttl) {
        this.rules = rules;
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttlConfig = IdleStateTtl.of(ttl);
        ValueStateDescriptor<Track> trackDesc =
                new ValueStateDescriptor<>("alert-track", TypeInformation.of(Track.class));
        MapStateDescriptor<Long, Turn> turnsDesc =
                new MapStateDescriptor<>("turns", Types.LONG, TypeInformation.of(Turn.class));
        MapStateDescriptor<Long, AggregatedIntelligence> earlyDesc =
                new MapStateDescriptor<>(
                        "early-aggregated",
                        Types.LONG,
                        TypeInformation.of(AggregatedIntelligence.class));
        trackDesc.enableTimeToLive(ttlConfig);
        turnsDesc.enableTimeToLive(ttlConfig);
        earlyDesc.enableTimeToLive(ttlConfig);
        track = getRuntimeContext().getState(trackDesc);
        turns = getRuntimeContext().getMapState(turnsDesc);
        early = getRuntimeContext().getMapState(earlyDesc);
        raised = new HashMap<>();
        var metrics = getRuntimeContext().getMetricGroup();
        for (String type : Alert.TYPES) {
            raised.put(type, metrics.addGroup("alert_type", type).counter("alerts_raised"));
        }
    }

    @Override
    public void processElement1(ConversationSnapshot s, Context ctx, Collector<Alert> out)
            throws Exception {
        Track t = track.value();
        if (t == null) {
            t = new Track();
        } else if (s.version() <= t.lastSnapshotVersion) {
            // The upstream state expired and the conversation started again at version 1.
            if (t.waitDeadlineMs > 0) {
                ctx.timerService().deleteProcessingTimeTimer(t.waitDeadlineMs);
            }
            turns.clear();
            t = new Track();
        }
        t.lastSnapshotVersion = s.version();
        t.firstActivity = s.firstActivity();
        Turn turn = Turn.of(s);
        watchReply(t, turn, s.version(), ctx, out);
        turns.put(s.version(), turn);
        AggregatedIntelligence waiting = early.get(s.version());
        if (waiting != null) {
            early.remove(s.version());
            evaluate(t, waiting, turn, ctx, out);
        }
        emitHeldOverdue(t, ctx, out);
        track.update(t);
    }

    @Override
    public void processElement2(AggregatedIntelligence a, Context ctx, Collector<Alert> out)
            throws Exception {
        Track t = track.value();
        if (t == null) {
            t = new Track();
        }
        t.lastAggregatedVersion = Math.max(t.lastAggregatedVersion, a.version());
        Turn turn = turns.get(a.version());
        if (turn == null) {
            early.put(a.version(), a);
        } else {
            evaluate(t, a, turn, ctx, out);
        }
        emitHeldOverdue(t, ctx, out);
        track.update(t);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        Track t = track.value();
        if (t == null || t.waitVersion == 0 || t.waitBreached || timestamp < t.waitDeadlineMs) {
            return;
        }
        AlertOptions.Thresholds th = rules.forTenant(tenantOf(ctx.getCurrentKey()));
        breach(
                t,
                String.format(
                        Locale.ROOT,
                        "customer message %s has had no agent reply within the SLA of %s",
                        t.waitMessageId,
                        human(th.replySla())),
                null,
                0);
        emitHeldOverdue(t, ctx, out);
        track.update(t);
    }

    /** The reply-overdue bookkeeping of one new message. */
    private void watchReply(Track t, Turn turn, long version, Context ctx, Collector<Alert> out) {
        AlertOptions.Thresholds th = rules.forTenant(tenantOf(ctx.getCurrentKey()));
        if (!th.isEnabled(Alert.REPLY_OVERDUE)) {
            return;
        }
        if (t.waitVersion > 0
                && !t.waitBreached
                && turn.timestampMs() - t.waitTimestampMs >= th.replySla().toMillis()) {
            breach(
                    t,
                    String.format(
                            Locale.ROOT,
                            "customer message %s got no agent reply for %s (SLA %s)",
                            t.waitMessageId,
                            human(Duration.ofMillis(turn.timestampMs() - t.waitTimestampMs)),
                            human(th.replySla())),
                    turn.messageId(),
                    version);
        }
        if ("agent".equals(turn.sender())) {
            if (t.waitVersion > 0) {
                if (!t.waitBreached) {
                    ctx.timerService().deleteProcessingTimeTimer(t.waitDeadlineMs);
                }
                t.clearWait();
            }
            t.openEpisodes.remove(Alert.REPLY_OVERDUE);
        } else if (ChatMessage.CUSTOMER.equals(turn.sender()) && t.waitVersion == 0) {
            long deadline = ctx.timerService().currentProcessingTime() + th.replySla().toMillis();
            t.waitVersion = version;
            t.waitMessageId = turn.messageId();
            t.waitTimestampMs = turn.timestampMs();
            t.waitDeadlineMs = deadline;
            t.waitBreached = false;
            ctx.timerService().registerProcessingTimeTimer(deadline);
        }
    }

    /** The waiting customer message missed its SLA: hold an overdue alert for it. */
    private void breach(Track t, String reason, String laterMessageId, long laterVersion) {
        t.waitBreached = true;
        if (t.openEpisodes.containsKey(Alert.REPLY_OVERDUE)) {
            return;
        }
        t.openEpisodes.put(Alert.REPLY_OVERDUE, t.waitVersion);
        t.heldOverdueVersion = t.waitVersion;
        t.heldOverdueMessageId = t.waitMessageId;
        t.heldOverdueReason = reason;
        t.heldOverdueLaterMessageId = laterMessageId;
        t.heldOverdueLaterVersion = laterVersion;
    }

    /** Emits a held overdue alert once the aggregated record of its version has been seen. */
    private void emitHeldOverdue(Track t, Context ctx, Collector<Alert> out) {
        if (t.heldOverdueVersion == 0 || t.lastAggregatedVersion < t.heldOverdueVersion) {
            return;
        }
        List<String> ids = new ArrayList<>(List.of(t.heldOverdueMessageId));
        List<Long> versions = new ArrayList<>(List.of(t.heldOverdueVersion));
        if (t.heldOverdueLaterMessageId != null && t.heldOverdueLaterVersion > 0) {
            ids.add(t.heldOverdueLaterMessageId);
            versions.add(t.heldOverdueLaterVersion);
        }
        emit(
                t,
                t.heldOverdueVersion,
                t.heldOverdueVersion,
                Alert.REPLY_OVERDUE,
                Alert.WARNING,
                t.heldOverdueReason,
                ids,
                versions,
                ctx,
                out);
        t.heldOverdueVersion = 0;
        t.heldOverdueMessageId = null;
        t.heldOverdueReason = null;
        t.heldOverdueLaterMessageId = null;
        t.heldOverdueLaterVersion = 0;
    }

    /** Evaluates every rule but reply_overdue on the aggregated record of a version. */
    private void evaluate(
            Track t, AggregatedIntelligence a, Turn turn, Context ctx, Collector<Alert> out)
            throws Exception {
        AlertOptions.Thresholds th = rules.forTenant(a.tenantId());
        long v = a.version();
        // The turn of the newest evaluated version stays: a later record of the same version
        // (a complete one after a partial one) is evaluated with it too.
        if (t.lastEvaluatedVersion > 0 && t.lastEvaluatedVersion < v) {
            turns.remove(t.lastEvaluatedVersion);
        }
        t.lastEvaluatedVersion = Math.max(t.lastEvaluatedVersion, v);
        List<String> here = List.of(turn.messageId());
        List<Long> hereV = List.of(v);
        Map<String, Object> insights = a.insights();
        if (th.isEnabled(Alert.ESCALATION_REQUESTED)) {
            boolean on = insights != null && truthy(insights.get("requires_escalation"));
            episode(
                    t,
                    on,
                    v,
                    Alert.ESCALATION_REQUESTED,
                    Alert.WARNING,
                    "escalation requested (intent "
                            + (insights == null ? "unknown" : insights.get("intent"))
                            + ")",
                    here,
                    hereV,
                    ctx,
                    out);
        }
        if (th.isEnabled(Alert.CRITICAL_URGENCY)) {
            boolean on =
                    insights != null
                            && "critical".equalsIgnoreCase(String.valueOf(insights.get("urgency")));
            episode(
                    t,
                    on,
                    v,
                    Alert.CRITICAL_URGENCY,
                    Alert.CRITICAL,
                    "urgency rated critical (intent "
                            + (insights == null ? "unknown" : insights.get("intent"))
                            + ")",
                    here,
                    hereV,
                    ctx,
                    out);
        }
        boolean customer = ChatMessage.CUSTOMER.equals(turn.sender());
        // Each answer counts once, also when a version has a partial and then a complete record.
        if (customer
                && th.isEnabled(Alert.SENTIMENT_DETERIORATING)
                && v > t.sentimentVersion
                && fresh(a, turn, "sentiment")) {
            t.sentimentVersion = v;
            sentiment(t, a, turn, th, ctx, out);
        }
        if (customer
                && th.isEnabled(Alert.PII_SHARED)
                && v > t.piiVersion
                && fresh(a, turn, "pii")) {
            t.piiVersion = v;
            boolean on = a.pii() != null && truthy(a.pii().get("has_pii"));
            episode(
                    t,
                    on,
                    v,
                    Alert.PII_SHARED,
                    Alert.WARNING,
                    "customer shared personal data (" + piiTypes(a.pii()) + "); do not echo it",
                    here,
                    hereV,
                    ctx,
                    out);
        }
    }

    private void sentiment(
            Track t,
            AggregatedIntelligence a,
            Turn turn,
            AlertOptions.Thresholds th,
            Context ctx,
            Collector<Alert> out) {
        Map<String, Object> s = a.sentiment();
        boolean negative = "negative".equalsIgnoreCase(String.valueOf(s.get("label")));
        Double score = s.get("score") instanceof Number n ? n.doubleValue() : null;
        Double previous = t.lastCustomerScore;
        String previousId = t.lastCustomerMessageId;
        long previousVersion = t.lastCustomerVersion;
        t.lastCustomerScore = score;
        t.lastCustomerMessageId = turn.messageId();
        t.lastCustomerVersion = a.version();
        if (!negative) {
            t.negativeIds.clear();
            t.negativeVersions.clear();
            t.openEpisodes.remove(Alert.SENTIMENT_DETERIORATING);
            return;
        }
        t.negativeIds.add(turn.messageId());
        t.negativeVersions.add(a.version());
        if (t.negativeIds.size() > Math.max(MAX_EVIDENCE, th.consecutiveNegative())) {
            t.negativeIds.remove(0);
            t.negativeVersions.remove(0);
        }
        if (t.openEpisodes.containsKey(Alert.SENTIMENT_DETERIORATING)) {
            return;
        }
        int run = t.negativeIds.size();
        if (run >= th.consecutiveNegative()) {
            int from = Math.max(0, run - th.consecutiveNegative());
            emitEpisode(
                    t,
                    a.version(),
                    Alert.SENTIMENT_DETERIORATING,
                    Alert.WARNING,
                    String.format(
                            Locale.ROOT,
                            "%d consecutive negative customer messages (score %s)",
                            th.consecutiveNegative(),
                            score == null ? "n/a" : String.format(Locale.ROOT, "%.2f", score)),
                    t.negativeIds.subList(from, run),
                    t.negativeVersions.subList(from, run),
                    ctx,
                    out);
        } else if (previous != null && score != null && previous - score > th.scoreDrop()) {
            emitEpisode(
                    t,
                    a.version(),
                    Alert.SENTIMENT_DETERIORATING,
                    Alert.INFO,
                    String.format(
                            Locale.ROOT,
                            "customer sentiment dropped from %.2f to %.2f (more than %.2f)",
                            previous,
                            score,
                            th.scoreDrop()),
                    List.of(previousId, turn.messageId()),
                    List.of(previousVersion, a.version()),
                    ctx,
                    out);
        }
    }

    /** Opens an episode (and raises its alert) when {@code on} and none is open; else clears. */
    private void episode(
            Track t,
            boolean on,
            long version,
            String type,
            String severity,
            String reason,
            List<String> ids,
            List<Long> versions,
            Context ctx,
            Collector<Alert> out) {
        if (!on) {
            t.openEpisodes.remove(type);
        } else if (!t.openEpisodes.containsKey(type)) {
            emitEpisode(t, version, type, severity, reason, ids, versions, ctx, out);
        }
    }

    private void emitEpisode(
            Track t,
            long version,
            String type,
            String severity,
            String reason,
            List<String> ids,
            List<Long> versions,
            Context ctx,
            Collector<Alert> out) {
        t.openEpisodes.put(type, version);
        emit(t, version, version, type, severity, reason, ids, versions, ctx, out);
    }

    private void emit(
            Track t,
            long version,
            long episodeVersion,
            String type,
            String severity,
            String reason,
            List<String> ids,
            List<Long> versions,
            Context ctx,
            Collector<Alert> out) {
        String key = ctx.getCurrentKey();
        int colon = key.indexOf(':');
        String tenant = key.substring(0, colon);
        String conversation = key.substring(colon + 1);
        out.collect(
                new Alert(
                        Alert.idOf(key, t.firstActivity, type, episodeVersion),
                        tenant,
                        conversation,
                        version,
                        type,
                        severity,
                        reason,
                        new Alert.Evidence(ids, versions),
                        Instant.ofEpochMilli(ctx.timerService().currentProcessingTime())));
        raised.get(type).inc();
    }

    /** Whether the agent answered for this very version (not a carried-forward answer). */
    private static boolean fresh(AggregatedIntelligence a, Turn turn, String agent) {
        String status = a.agentStatus().get(agent);
        return turn.scheduledAgents().contains(agent)
                && (AgentStatus.OK.equals(status) || AgentStatus.FALLBACK.equals(status))
                && ("sentiment".equals(agent) ? a.sentiment() != null : a.pii() != null);
    }

    private static boolean truthy(Object o) {
        return o instanceof Boolean b ? b : "true".equalsIgnoreCase(String.valueOf(o));
    }

    /** The distinct entity types of a PII answer, never the values. */
    private static String piiTypes(Map<String, Object> pii) {
        java.util.TreeSet<String> types = new java.util.TreeSet<>();
        if (pii != null && pii.get("entities") instanceof List<?> entities) {
            for (Object e : entities) {
                if (e instanceof Map<?, ?> m && m.get("type") != null) {
                    types.add(String.valueOf(m.get("type")));
                }
            }
        }
        return types.isEmpty() ? "type unknown" : String.join(", ", types);
    }

    private static String tenantOf(String key) {
        return key.substring(0, key.indexOf(':'));
    }

    /** {@code 15 min}, {@code 2 h 5 min}, {@code 40 s}. */
    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 60) {
            return s + " s";
        }
        long m = s / 60;
        if (m < 60) {
            return m + " min";
        }
        long h = m / 60;
        if (h < 48) {
            return m % 60 == 0 ? h + " h" : h + " h " + (m % 60) + " min";
        }
        return (h / 24) + " d " + (h % 24) + " h";
    }

    /**
     * The sender and schedule of one version, kept until its aggregated record arrives.
     *
     * @param messageId the message of the version
     * @param sender {@code customer}, {@code agent} or {@code system}
     * @param timestampMs the message timestamp, epoch milliseconds
     * @param scheduledAgents the agents scheduled for the version
     */
    public record Turn(
            String messageId, String sender, long timestampMs, List<String> scheduledAgents) {

        public Turn {
            scheduledAgents =
                    scheduledAgents == null ? new ArrayList<>() : new ArrayList<>(scheduledAgents);
        }

        static Turn of(ConversationSnapshot s) {
            return new Turn(
                    s.lastMessage().messageId(),
                    s.lastMessage().sender(),
                    s.lastMessage().timestamp() == null
                            ? 0
                            : s.lastMessage().timestamp().toEpochMilli(),
                    s.scheduledAgents());
        }
    }

    /**
     * The alert state of one conversation (a Flink POJO: public fields, no-arg constructor).
     * Versions are 0 when none.
     */
    public static class Track {
        /** Newest snapshot version seen (a lower one means the conversation started again). */
        public long lastSnapshotVersion;

        /** Newest aggregated version seen. */
        public long lastAggregatedVersion;

        /** Newest aggregated version evaluated (its turn is kept for a re-emitted record). */
        public long lastEvaluatedVersion;

        /** Version whose sentiment answer was last counted. */
        public long sentimentVersion;

        /** Version whose PII answer was last counted. */
        public long piiVersion;

        /** The conversation's first activity, part of the alert ids. */
        public Instant firstActivity;

        /** Open episodes: alert type → the version the episode started at. */
        public Map<String, Long> openEpisodes = new HashMap<>();

        /** The newest negative customer messages in a row (at most {@link #MAX_EVIDENCE}). */
        public List<String> negativeIds = new ArrayList<>();

        /** Their versions. */
        public List<Long> negativeVersions = new ArrayList<>();

        /** Score of the customer's previous message with a sentiment answer, or null. */
        public Double lastCustomerScore;

        /** Its message id. */
        public String lastCustomerMessageId;

        /** Its version. */
        public long lastCustomerVersion;

        /** Version of the first customer message waiting for an agent reply, 0 if none. */
        public long waitVersion;

        /** Its message id. */
        public String waitMessageId;

        /** Its timestamp, epoch milliseconds. */
        public long waitTimestampMs;

        /** Processing time at which its SLA ends (the timer). */
        public long waitDeadlineMs;

        /** Whether it already missed the SLA. */
        public boolean waitBreached;

        /** A reply_overdue alert waiting for the aggregated record of its version (0 if none). */
        public long heldOverdueVersion;

        /** The customer message of the held alert. */
        public String heldOverdueMessageId;

        /** Why it fired. */
        public String heldOverdueReason;

        /** The later message whose timestamp showed the miss, or null (the timer fired). */
        public String heldOverdueLaterMessageId;

        /** Its version, 0 if none. */
        public long heldOverdueLaterVersion;

        public Track() {}

        void clearWait() {
            waitVersion = 0;
            waitMessageId = null;
            waitTimestampMs = 0;
            waitDeadlineMs = 0;
            waitBreached = false;
        }
    }
}

package io.signalstream.functions;

import io.signalstream.agents.AgentSpec;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.TranscriptEntry;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps each conversation's state, keyed by {@code tenant_id:conversation_id}, and emits one {@link
 * ConversationSnapshot} per accepted message.
 *
 * <p>Keyed state, all with an idle TTL (a conversation nobody writes to for {@code ttl} is
 * forgotten; it would otherwise grow without bound):
 *
 * <ul>
 *   <li>{@code conversation}: message count and first / last activity ({@link
 *       ConversationCounters})
 *   <li>{@code transcript}: the last {@code window} messages, in arrival order
 *   <li>{@code seen-message-ids}: message id → version, so a re-delivered message (same id) is
 *       dropped and counted once
 *   <li>{@code agent-last-run}: agent → the version it last ran for, for debounced triggers
 * </ul>
 *
 * <p>Versions are assigned in arrival order (1, 2, …); the agents scheduled for a version are
 * decided here from each agent's {@link io.signalstream.agents.AgentTrigger}.
 *
 * <p>Metrics: {@code redelivered_messages}, {@code conversations_started} (messages that began a
 * conversation, version 1, also after its state expired) and the gauge {@code
 * active_conversations}: the conversations of this subtask with a message in the last {@link
 * #ACTIVE_WINDOW} (or the state TTL, if shorter), in processing time. Flink cannot count the keys
 * with live state cheaply, so this is the practical proxy: it is kept on the heap only (memory
 * proportional to the active conversations, not to the state), restarts from zero after a restore
 * and fills again within the window.
 */
public class ConversationStateFunction
        extends KeyedProcessFunction<String, ChatMessage, ConversationSnapshot> {

    private static final long serialVersionUID = 1L;

    private final List<AgentSpec> agents;
    private final int window;
    private final Duration ttl;

    private transient ValueState<ConversationCounters> conversation;
    private transient ListState<TranscriptEntry> transcript;
    private transient MapState<String, Long> seen;
    private transient MapState<String, Long> agentLastRun;
    private transient Counter redelivered;
    private transient Counter started;
    private transient Map<String, Long> lastSeenMs;
    private transient long activeWindowMs;
    private transient int sincePrune;

    /** How long a conversation counts as active after its last message. */
    public static final Duration ACTIVE_WINDOW = Duration.ofHours(1);

    private static final int PRUNE_EVERY = 10_000;

    /**
     * @param agents the configured agents and their triggers
     * @param window how many recent messages a snapshot carries (at least 1)
     * @param ttl idle time after which a conversation's state expires
     */
    public ConversationStateFunction(List<AgentSpec> agents, int window, Duration ttl) {
        if (window < 1) {
            throw new IllegalArgumentException("transcript window must be >= 1, got " + window);
        }
        this.agents = new ArrayList<>(agents);
        this.window = window;
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttlConfig = IdleStateTtl.of(ttl);
        ValueStateDescriptor<ConversationCounters> conv =
                new ValueStateDescriptor<>(
                        "conversation", TypeInformation.of(ConversationCounters.class));
        ListStateDescriptor<TranscriptEntry> tr =
                new ListStateDescriptor<>("transcript", TypeInformation.of(TranscriptEntry.class));
        MapStateDescriptor<String, Long> seenDesc =
                new MapStateDescriptor<>("seen-message-ids", Types.STRING, Types.LONG);
        MapStateDescriptor<String, Long> lastRun =
                new MapStateDescriptor<>("agent-last-run", Types.STRING, Types.LONG);
        conv.enableTimeToLive(ttlConfig);
        tr.enableTimeToLive(ttlConfig);
        seenDesc.enableTimeToLive(ttlConfig);
        lastRun.enableTimeToLive(ttlConfig);
        conversation = getRuntimeContext().getState(conv);
        transcript = getRuntimeContext().getListState(tr);
        seen = getRuntimeContext().getMapState(seenDesc);
        agentLastRun = getRuntimeContext().getMapState(lastRun);
        var metrics = getRuntimeContext().getMetricGroup();
        redelivered = metrics.counter("redelivered_messages");
        started = metrics.counter("conversations_started");
        lastSeenMs = new ConcurrentHashMap<>();
        activeWindowMs = Math.min(ACTIVE_WINDOW.toMillis(), ttl.toMillis());
        metrics.gauge(
                "active_conversations",
                (Gauge<Integer>) () -> activeConversations(System.currentTimeMillis()));
    }

    @Override
    public void processElement(ChatMessage msg, Context ctx, Collector<ConversationSnapshot> out)
            throws Exception {
        if (seen.contains(msg.messageId())) {
            // Re-delivery of a message already counted (same id): it must not count twice.
            redelivered.inc();
            return;
        }
        ConversationCounters c = conversation.value();
        if (c == null) {
            c = new ConversationCounters();
        }
        long version = c.messageCount + 1;
        long ts = msg.timestamp().toEpochMilli();
        Instant previous = c.messageCount == 0 ? null : Instant.ofEpochMilli(c.lastActivityMs);

        List<String> scheduled = new ArrayList<>();
        for (AgentSpec agent : agents) {
            Long last = agentLastRun.get(agent.name());
            if (agent.trigger().fires(msg, version, last == null ? 0 : last, previous)) {
                scheduled.add(agent.name());
                agentLastRun.put(agent.name(), version);
            }
        }

        List<TranscriptEntry> recent = new ArrayList<>();
        for (TranscriptEntry e : transcript.get()) {
            recent.add(e);
        }
        recent.add(TranscriptEntry.of(msg));
        if (recent.size() > window) {
            recent = new ArrayList<>(recent.subList(recent.size() - window, recent.size()));
        }
        transcript.update(recent);
        if (version == 1) {
            started.inc();
        }
        long nowMs = ctx.timerService().currentProcessingTime();
        lastSeenMs.put(ctx.getCurrentKey(), nowMs);
        if (++sincePrune >= PRUNE_EVERY) {
            sincePrune = 0;
            activeConversations(nowMs);
        }

        c.firstActivityMs = c.messageCount == 0 ? ts : Math.min(c.firstActivityMs, ts);
        c.lastActivityMs = c.messageCount == 0 ? ts : Math.max(c.lastActivityMs, ts);
        c.messageCount = version;
        conversation.update(c);
        seen.put(msg.messageId(), version);

        out.collect(
                new ConversationSnapshot(
                        msg.tenantId(),
                        msg.conversationId(),
                        version,
                        version,
                        TranscriptEntry.of(msg),
                        recent,
                        Instant.ofEpochMilli(c.firstActivityMs),
                        Instant.ofEpochMilli(c.lastActivityMs),
                        scheduled,
                        msg.source()));
    }

    /** Drops the conversations idle for longer than the active window, returns the rest. */
    private int activeConversations(long nowMs) {
        long oldest = nowMs - activeWindowMs;
        lastSeenMs.values().removeIf(t -> t < oldest);
        return lastSeenMs.size();
    }

    /**
     * Per-conversation counters kept in keyed state. A Flink POJO (public no-arg constructor,
     * public fields) so its schema can evolve: fields may be added or removed between savepoints.
     */
    @VisibleForTesting
    public static class ConversationCounters {
        /** Accepted messages so far. */
        public long messageCount;

        /** Earliest message timestamp, epoch ms. */
        public long firstActivityMs;

        /** Latest message timestamp, epoch ms. */
        public long lastActivityMs;

        /** Needed by Flink's POJO serializer. */
        public ConversationCounters() {}
    }
}

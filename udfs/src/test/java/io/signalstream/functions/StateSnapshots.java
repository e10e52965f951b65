package io.signalstream.functions;

import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.events.AgentResult;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.Usage;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Writes the state snapshots of the keyed functions that {@link StateSchemaCompatibilityTest}
 * restores. The files under {@code src/test/resources/state-snapshots/} were written by the state
 * schema of their version suffix; when a state type changes, keep the old files (the new code must
 * still restore them) and add new ones by raising {@link #VERSION} and running {@link #main} from
 * the udfs directory on the test classpath ({@code mvn dependency:build-classpath} gives it). An
 * added field in {@code ConversationCounters} (Flink POJO rules) was checked to restore the v1
 * files.
 */
public final class StateSnapshots {

    /** Version of the state schema the snapshots are written with. */
    static final String VERSION = "v1";

    static final Duration TTL = Duration.ofDays(7);
    static final String KEY = "acme:conv-1";

    static List<AgentSpec> agents() {
        Duration gap = Duration.ofMinutes(5);
        return List.of(
                new AgentSpec(
                        "pii", AgentTrigger.parse("customer-messages", 3, gap), "local", "local"),
                new AgentSpec(
                        "sentiment",
                        AgentTrigger.parse("customer-messages", 3, gap),
                        "local",
                        "local"));
    }

    static ChatMessage message(int n, String sender) {
        return new ChatMessage(
                "m" + n,
                "acme",
                "conv-1",
                sender,
                "message number " + n + " about my order",
                "chat",
                Instant.parse("2024-05-01T10:00:00Z").plusSeconds(60L * n),
                Map.of(),
                new SourceRef("support.messages.raw", 0, n));
    }

    static AgentResult result(ConversationSnapshot s, String agent) {
        return new AgentResult(
                s.tenantId(),
                s.conversationId(),
                s.version(),
                s.lastMessage().messageId(),
                agent,
                "ok",
                "local",
                "local-" + agent,
                "local-v1",
                "0123456789abcdef",
                3,
                1,
                Usage.NONE,
                Map.of("label", "negative", "score", -0.5),
                null);
    }

    static KeyedOneInputStreamOperatorTestHarness<String, ChatMessage, ConversationSnapshot>
            stateHarness() throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ConversationStateFunction(agents(), 20, TTL)),
                ChatMessage::conversationKey,
                Types.STRING);
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, ConversationSnapshot, AgentResult, ?>
            aggregatorHarness() throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(
                        new IntelligenceAggregator(
                                Duration.ofSeconds(30), TTL, "support.ai.aggregated")),
                ConversationSnapshot::conversationKey,
                AgentResult::conversationKey,
                Types.STRING);
    }

    static String path(String operator) {
        return "src/test/resources/state-snapshots/" + operator + "-" + VERSION + ".snapshot";
    }

    /**
     * Writes both snapshots (run from the udfs module directory); with the argument {@code
     * rocksdb}, only the aggregator's, from a full RocksDB snapshot, as {@code
     * intelligence-aggregator-rocksdb-<version>.snapshot}.
     */
    public static void main(String[] args) throws Exception {
        boolean rocksDb = args.length > 0 && args[0].equals("rocksdb");
        OperatorSubtaskState aggregatorState;
        try (var agg = aggregatorHarness()) {
            if (rocksDb) {
                agg.setStateBackend(new EmbeddedRocksDBStateBackend(false));
            }
            agg.open();
            try (var state = stateHarness()) {
                state.open();
                for (int n = 1; n <= 3; n++) {
                    state.processElement(message(n, n == 2 ? "agent" : "customer"), n);
                }
                for (ConversationSnapshot s : state.extractOutputValues()) {
                    agg.processElement1(s, s.version());
                    for (String agent : s.scheduledAgents()) {
                        agg.processElement2(result(s, agent), s.version());
                    }
                }
                if (!rocksDb) {
                    OperatorSnapshotUtil.writeStateHandle(
                            state.snapshot(1L, 1L), path("conversation-state"));
                }
            }
            aggregatorState = agg.snapshot(1L, 1L);
        }
        if (rocksDb) {
            OperatorSnapshotUtil.writeStateHandle(
                    aggregatorState, path("intelligence-aggregator-rocksdb"));
            System.out.println("wrote " + path("intelligence-aggregator-rocksdb"));
            return;
        }
        OperatorSnapshotUtil.writeStateHandle(aggregatorState, path("intelligence-aggregator"));
        System.out.println(
                "wrote " + path("conversation-state") + " and " + path("intelligence-aggregator"));
    }

    private StateSnapshots() {}
}

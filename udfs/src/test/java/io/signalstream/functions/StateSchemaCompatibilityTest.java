package io.signalstream.functions;

import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.TranscriptEntry;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * State written by an earlier state schema restores into the current code: the snapshots under
 * {@code src/test/resources/state-snapshots/} were written by {@link StateSnapshots} with the
 * schema of their version suffix. A change to a state type that breaks restoring them fails here,
 * before it breaks a savepoint upgrade in production.
 */
class StateSchemaCompatibilityTest {

    private static OperatorSubtaskState read(String operator) throws Exception {
        return OperatorSnapshotUtil.readStateHandle(StateSnapshots.path(operator));
    }

    @Test
    void conversationStateOfV1RestoresCountersTranscriptAndSeenIds() throws Exception {
        try (var h = StateSnapshots.stateHarness()) {
            h.initializeState(read("conversation-state"));
            h.open();
            h.processElement(StateSnapshots.message(3, "customer"), 10); // re-delivery of m3
            h.processElement(StateSnapshots.message(4, "customer"), 11);
            List<ConversationSnapshot> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            ConversationSnapshot s = out.get(0);
            assertThat(s.version()).isEqualTo(4);
            assertThat(s.messageCount()).isEqualTo(4);
            assertThat(s.firstActivity())
                    .isEqualTo(StateSnapshots.message(1, "customer").timestamp());
            assertThat(s.recentMessages())
                    .extracting(TranscriptEntry::messageId)
                    .containsExactly("m1", "m2", "m3", "m4");
            assertThat(s.scheduledAgents()).containsExactly("pii", "sentiment");
        }
    }

    @Test
    void aggregatorStateOfV1RestoresEmittedVersionAndLatestAnswers() throws Exception {
        ConversationSnapshot v4;
        try (var state = StateSnapshots.stateHarness()) {
            state.initializeState(read("conversation-state"));
            state.open();
            state.processElement(StateSnapshots.message(4, "agent"), 11); // no agent scheduled
            v4 = state.extractOutputValues().get(0);
        }
        try (var h = StateSnapshots.aggregatorHarness()) {
            h.initializeState(read("intelligence-aggregator"));
            h.open();
            h.processElement1(v4, 11);
            @SuppressWarnings("unchecked")
            List<AggregatedIntelligence> out =
                    (List<AggregatedIntelligence>) (List<?>) h.extractOutputValues();
            assertThat(out).hasSize(1);
            AggregatedIntelligence a = out.get(0);
            assertThat(a.version()).isEqualTo(4);
            assertThat(a.complete()).isTrue();
            // Answers of version 3, kept in state, are carried forward.
            assertThat(a.sentiment()).containsEntry("label", "negative");
            assertThat(a.pii()).isNotNull();
            assertThat(a.sourceMessageIds()).containsExactly("m3", "m4");
        }
    }

    /**
     * The same restore on RocksDB, the production backend: the answers of v1 were written with Kryo
     * inside the map serializer and are migrated to {@link
     * io.signalstream.events.ObjectMapSerializer} on restore.
     */
    @Test
    void aggregatorStateOfV1RestoresOnRocksDbAndMigratesTheAnswers() throws Exception {
        ConversationSnapshot v4;
        try (var state = StateSnapshots.stateHarness()) {
            state.initializeState(read("conversation-state"));
            state.open();
            state.processElement(StateSnapshots.message(4, "agent"), 11);
            v4 = state.extractOutputValues().get(0);
        }
        try (var h = StateSnapshots.aggregatorHarness()) {
            h.setStateBackend(new EmbeddedRocksDBStateBackend());
            h.initializeState(read("intelligence-aggregator-rocksdb"));
            h.open();
            h.processElement1(v4, 11);
            @SuppressWarnings("unchecked")
            List<AggregatedIntelligence> out =
                    (List<AggregatedIntelligence>) (List<?>) h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).version()).isEqualTo(4);
            assertThat(out.get(0).sentiment())
                    .containsEntry("label", "negative")
                    .containsEntry("score", -0.5);
        }
    }
}

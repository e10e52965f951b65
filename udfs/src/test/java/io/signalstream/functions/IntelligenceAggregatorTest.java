package io.signalstream.functions;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.LineageRecord;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.events.Usage;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

class IntelligenceAggregatorTest {

    private static final Duration WINDOW = Duration.ofSeconds(30);
    private static final Duration TTL = Duration.ofDays(7);
    private static final String TOPIC = "support.ai.aggregated";
    private static final String TENANT = "TeamYouTube";
    private static final String CONV = "NFUDPkkooFvg5tf3xszV";
    private static final String KEY = TENANT + ":" + CONV;
    private static final long START = 1_000_000L;

    /** Real turns of conversation NFUDPkkooFvg5tf3xszV (TeamYouTube) in ibm-twcc-dev.jsonl. */
    private static final String[] TEXTS = {
        "I'm going to fucking puke\n"
                + "My \"It\" review has been banned world wide because of copyright...",
        "@YouTube can you please help me?\n"
                + "My review is fair use and it has been blocked world wide.",
        "@SoulsMindPalace If you believe your video is protected by fair use, you have the option"
                + " to dispute the claim.",
    };

    private KeyedTwoInputStreamOperatorTestHarness<
                    String, ConversationSnapshot, AgentResult, AggregatedIntelligence>
            harness;

    @BeforeEach
    void open() throws Exception {
        harness =
                ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(
                        new IntelligenceAggregator(WINDOW, TTL, TOPIC),
                        ConversationSnapshot::conversationKey,
                        AgentResult::conversationKey,
                        Types.STRING);
        harness.setProcessingTime(START);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static String messageId(long version) {
        return "msg-" + version;
    }

    private static SourceRef source(long version) {
        return new SourceRef("support.messages.raw", 4, 500L + version);
    }

    private static ConversationSnapshot snapshot(long version, String... agents) {
        TranscriptEntry last =
                new TranscriptEntry(
                        messageId(version),
                        version == 3 ? "agent" : "customer",
                        TEXTS[(int) ((version - 1) % TEXTS.length)],
                        Instant.parse("2020-04-01T15:21:28Z").plusSeconds(60 * version));
        return new ConversationSnapshot(
                TENANT,
                CONV,
                version,
                version,
                last,
                List.of(last),
                Instant.parse("2020-04-01T15:22:28Z"),
                last.timestamp(),
                List.of(agents),
                source(version));
    }

    private static AgentResult result(
            long version, String agent, String status, Map<String, Object> answer) {
        return new AgentResult(
                TENANT,
                CONV,
                version,
                messageId(version),
                agent,
                status,
                "local",
                "local-" + agent,
                "local-v1",
                "hash-" + agent + "-" + version,
                10 + version,
                1,
                new Usage(100 + version, 20),
                answer,
                AgentStatus.OK.equals(status) ? null : "boom");
    }

    private static AgentResult ok(long version, String agent) {
        return result(version, agent, AgentStatus.OK, answer(agent, version));
    }

    private static Map<String, Object> answer(String agent, long version) {
        return switch (agent) {
            case "pii" -> Map.of("has_pii", false, "redacted_text", TEXTS[0], "v", (int) version);
            case "sentiment" -> Map.of("label", "negative", "score", -0.7, "v", (int) version);
            case "insights" -> Map.of("intent", "complaint", "v", (int) version);
            default -> Map.of("summary", "Review blocked for copyright", "v", (int) version);
        };
    }

    private void snap(ConversationSnapshot s) throws Exception {
        harness.processElement1(s, 0L);
    }

    private void res(AgentResult r) throws Exception {
        harness.processElement2(r, 0L);
    }

    private List<AggregatedIntelligence> output() {
        return harness.extractOutputValues();
    }

    private List<LineageRecord> lineage() {
        ConcurrentLinkedQueue<StreamRecord<LineageRecord>> q =
                harness.getSideOutput(IntelligenceAggregator.LINEAGE);
        List<LineageRecord> out = new ArrayList<>();
        if (q != null) {
            q.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    @Test
    void emitsCompleteRecordWhenAllScheduledAgentsAnswered() throws Exception {
        snap(snapshot(1, "pii", "sentiment"));
        res(ok(1, "pii"));
        assertThat(output()).as("waits for sentiment").isEmpty();

        harness.setProcessingTime(START + 1234);
        res(ok(1, "sentiment"));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(1);
        AggregatedIntelligence a = out.get(0);
        assertThat(a.tenantId()).isEqualTo(TENANT);
        assertThat(a.conversationId()).isEqualTo(CONV);
        assertThat(a.version()).isEqualTo(1);
        assertThat(a.complete()).isTrue();
        assertThat(a.missingAgents()).isEmpty();
        assertThat(a.pii()).isEqualTo(answer("pii", 1));
        assertThat(a.sentiment()).isEqualTo(answer("sentiment", 1));
        assertThat(a.insights()).isNull();
        assertThat(a.summary()).isNull();
        assertThat(a.agentStatus())
                .containsOnly(Map.entry("pii", "ok"), Map.entry("sentiment", "ok"));
        assertThat(a.sourceMessageIds()).containsExactly("msg-1");
        assertThat(a.lastUpdated()).isEqualTo(Instant.ofEpochMilli(START + 1234));
    }

    @Test
    void writesOneLineageRecordPerOutput() throws Exception {
        snap(snapshot(1, "pii", "sentiment"));
        res(ok(1, "pii"));
        res(ok(1, "sentiment"));
        snap(snapshot(2, "sentiment"));
        res(ok(2, "sentiment"));

        List<LineageRecord> lineage = lineage();
        assertThat(lineage).hasSize(2);
        LineageRecord l = lineage.get(1);
        assertThat(l.eventType()).isEqualTo(LineageRecord.EVENT_TYPE);
        assertThat(l.tenantId()).isEqualTo(TENANT);
        assertThat(l.source()).isEqualTo(IntelligenceAggregator.LINEAGE_SOURCE);
        assertThat(l.timestamp()).isEqualTo(output().get(1).lastUpdated());
        assertThat(l.data().output()).isEqualTo(new LineageRecord.Output(TOPIC, KEY, 2));
        // pii's answer comes from version 1, sentiment's from version 2
        assertThat(l.data().inputs())
                .containsExactly(
                        new LineageRecord.Input("support.messages.raw", 4, 501L, "msg-1", 1),
                        new LineageRecord.Input("support.messages.raw", 4, 502L, "msg-2", 2));
        assertThat(l.data().agents()).containsOnlyKeys("pii", "sentiment");
        LineageRecord.AgentLineage s = l.data().agents().get("sentiment");
        assertThat(s.version()).isEqualTo(2);
        assertThat(s.provider()).isEqualTo("local");
        assertThat(s.model()).isEqualTo("local-sentiment");
        assertThat(s.promptHash()).isEqualTo("hash-sentiment-2");
        assertThat(s.promptTokens()).isEqualTo(102);
        assertThat(s.completionTokens()).isEqualTo(20);
        assertThat(s.latencyMs()).isEqualTo(12);
        assertThat(s.status()).isEqualTo("ok");
        assertThat(l.data().agents().get("pii").version()).isEqualTo(1);
        assertThat(output().get(1).sourceMessageIds()).containsExactly("msg-1", "msg-2");
    }

    @Test
    void lineageEventIdIsDeterministicPerKeyAndVersion() throws Exception {
        snap(snapshot(1));
        snap(snapshot(2));

        List<LineageRecord> lineage = lineage();
        assertThat(lineage).hasSize(2);
        String expected1 =
                UUID.nameUUIDFromBytes((KEY + "\u0000" + 1).getBytes(StandardCharsets.UTF_8))
                        .toString();
        assertThat(lineage.get(0).eventId()).isEqualTo(expected1);
        assertThat(lineage.get(1).eventId()).isNotEqualTo(expected1);
        assertThat(IntelligenceAggregator.lineageEventId(KEY, 2))
                .isEqualTo(lineage.get(1).eventId());
        assertThat(IntelligenceAggregator.lineageEventId("Other:" + CONV, 1))
                .isNotEqualTo(expected1);
    }

    @Test
    void resultBeforeItsSnapshotIsBufferedAndUsed() throws Exception {
        res(ok(1, "pii"));
        res(ok(1, "sentiment"));
        assertThat(output()).isEmpty();

        snap(snapshot(1, "pii", "sentiment"));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).complete()).isTrue();
        assertThat(out.get(0).pii()).isEqualTo(answer("pii", 1));
        assertThat(out.get(0).sentiment()).isEqualTo(answer("sentiment", 1));
    }

    @Test
    void emitsPartialRecordWhenTheJoinWindowCloses() throws Exception {
        snap(snapshot(1, "pii", "sentiment"));
        res(ok(1, "pii"));

        harness.setProcessingTime(START + WINDOW.toMillis() - 1);
        assertThat(output()).as("window still open").isEmpty();

        harness.setProcessingTime(START + WINDOW.toMillis());

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(1);
        AggregatedIntelligence a = out.get(0);
        assertThat(a.complete()).isFalse();
        assertThat(a.missingAgents()).containsExactly("sentiment");
        assertThat(a.agentStatus())
                .containsOnly(
                        Map.entry("pii", "ok"),
                        Map.entry("sentiment", AggregatedIntelligence.MISSING));
        assertThat(a.pii()).isEqualTo(answer("pii", 1));
        assertThat(a.sentiment()).isNull();
        assertThat(lineage()).hasSize(1);
        assertThat(lineage().get(0).data().agents()).containsOnlyKeys("pii");
    }

    @Test
    void lateResultOfAnEmittedVersionIsIgnored() throws Exception {
        snap(snapshot(1, "pii", "sentiment"));
        res(ok(1, "pii"));
        harness.setProcessingTime(START + WINDOW.toMillis());
        assertThat(output()).hasSize(1);

        res(ok(1, "sentiment")); // stale: version 1 was already emitted
        assertThat(output()).hasSize(1);

        snap(snapshot(2, "pii"));
        res(ok(2, "pii"));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(2);
        AggregatedIntelligence v2 = out.get(1);
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.complete()).isTrue();
        assertThat(v2.sentiment()).as("the stale answer is not used").isNull();
        assertThat(v2.agentStatus()).containsOnlyKeys("pii");
        assertThat(v2.pii()).isEqualTo(answer("pii", 2));
    }

    @Test
    void versionsAreEmittedInOrder() throws Exception {
        snap(snapshot(1, "pii"));
        harness.setProcessingTime(START + 1000);
        snap(snapshot(2, "sentiment"));
        res(ok(2, "sentiment"));
        assertThat(output()).as("version 2 is complete but waits for version 1").isEmpty();

        res(ok(1, "pii"));

        List<AggregatedIntelligence> out = output();
        assertThat(out).extracting(AggregatedIntelligence::version).containsExactly(1L, 2L);
        assertThat(out).extracting(AggregatedIntelligence::complete).containsExactly(true, true);
        assertThat(out.get(1).pii()).as("carried forward").isEqualTo(answer("pii", 1));
        assertThat(out.get(1).sentiment()).isEqualTo(answer("sentiment", 2));
        assertThat(out.get(1).sourceMessageIds()).containsExactly("msg-1", "msg-2");
    }

    @Test
    void laterCompleteVersionIsReleasedWhenTheEarlierWindowCloses() throws Exception {
        snap(snapshot(1, "pii"));
        harness.setProcessingTime(START + 1000);
        snap(snapshot(2, "sentiment"));
        res(ok(2, "sentiment"));
        assertThat(output()).isEmpty();

        harness.setProcessingTime(START + WINDOW.toMillis());

        List<AggregatedIntelligence> out = output();
        assertThat(out).extracting(AggregatedIntelligence::version).containsExactly(1L, 2L);
        assertThat(out.get(0).complete()).isFalse();
        assertThat(out.get(0).missingAgents()).containsExactly("pii");
        assertThat(out.get(1).complete()).isTrue();
        assertThat(out.get(1).lastUpdated())
                .isEqualTo(Instant.ofEpochMilli(START + WINDOW.toMillis()));
    }

    @Test
    void snapshotWithoutScheduledAgentsEmitsAtOnceAndCarriesAnswersForward() throws Exception {
        snap(snapshot(1, "pii", "sentiment", "summary"));
        res(ok(1, "pii"));
        res(ok(1, "sentiment"));
        res(ok(1, "summary"));

        snap(snapshot(2));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(2);
        AggregatedIntelligence v2 = out.get(1);
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.complete()).isTrue();
        assertThat(v2.missingAgents()).isEmpty();
        assertThat(v2.pii()).isEqualTo(answer("pii", 1));
        assertThat(v2.sentiment()).isEqualTo(answer("sentiment", 1));
        assertThat(v2.summary()).isEqualTo(answer("summary", 1));
        assertThat(v2.agentStatus()).containsOnlyKeys("pii", "sentiment", "summary");
        assertThat(v2.sourceMessageIds()).containsExactly("msg-1", "msg-2");
        assertThat(v2.lastUpdated()).isEqualTo(Instant.ofEpochMilli(START));
    }

    @Test
    void firstSnapshotWithoutAgentsEmitsEmptyRecord() throws Exception {
        snap(snapshot(1));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).complete()).isTrue();
        assertThat(out.get(0).pii()).isNull();
        assertThat(out.get(0).sentiment()).isNull();
        assertThat(out.get(0).agentStatus()).isEmpty();
        assertThat(out.get(0).sourceMessageIds()).containsExactly("msg-1");
    }

    @Test
    void exactlyOneOutputPerVersionEvenWithExtraResults() throws Exception {
        snap(snapshot(1, "pii"));
        res(ok(1, "pii"));
        res(ok(1, "pii")); // duplicate after emit
        res(ok(1, "insights")); // not scheduled, after emit
        harness.setProcessingTime(START + 10 * WINDOW.toMillis()); // the version's timer fires

        snap(snapshot(2, "pii"));
        res(ok(2, "summary")); // not scheduled for version 2
        res(ok(2, "pii"));
        res(ok(2, "pii"));
        harness.setProcessingTime(START + 20 * WINDOW.toMillis());

        List<AggregatedIntelligence> out = output();
        assertThat(out).extracting(AggregatedIntelligence::version).containsExactly(1L, 2L);
        assertThat(lineage()).hasSize(2);
        assertThat(out.get(1).insights()).isNull();
    }

    @Test
    void failedResultCountsAsAnsweredButKeepsThePreviousAnswer() throws Exception {
        snap(snapshot(1, "sentiment"));
        res(ok(1, "sentiment"));
        snap(snapshot(2, "sentiment"));
        res(result(2, "sentiment", AgentStatus.FAILED, Map.of()));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(2);
        AggregatedIntelligence v2 = out.get(1);
        assertThat(v2.missingAgents()).isEmpty();
        assertThat(v2.agentStatus()).containsEntry("sentiment", "failed");
        assertThat(v2.sentiment())
                .as("newest answer at or before v2")
                .isEqualTo(answer("sentiment", 1));
        LineageRecord.AgentLineage l = lineage().get(1).data().agents().get("sentiment");
        assertThat(l.status()).isEqualTo("failed");
        assertThat(l.version()).isEqualTo(2);
    }

    @Test
    void conversationsAreAggregatedIndependently() throws Exception {
        ConversationSnapshot other =
                new ConversationSnapshot(
                        "Google",
                        CONV,
                        1,
                        1,
                        snapshot(1).lastMessage(),
                        List.of(),
                        null,
                        null,
                        List.of("pii"),
                        source(9));
        snap(snapshot(1, "pii"));
        snap(other);
        res(
                new AgentResult(
                        "Google",
                        CONV,
                        1,
                        "msg-1",
                        "pii",
                        "ok",
                        "local",
                        null,
                        null,
                        null,
                        1,
                        1,
                        null,
                        Map.of("has_pii", true),
                        null));

        List<AggregatedIntelligence> out = output();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).tenantId()).isEqualTo("Google");
        assertThat(out.get(0).pii()).containsEntry("has_pii", true);
    }

    @Test
    void restartedConversationStartsAfresh() throws Exception {
        snap(snapshot(1, "pii"));
        res(ok(1, "pii"));
        snap(snapshot(2, "sentiment"));
        res(ok(2, "sentiment"));

        // upstream state expired: the conversation comes back at version 1
        snap(snapshot(1, "sentiment"));
        res(ok(1, "sentiment"));

        List<AggregatedIntelligence> out = output();
        assertThat(out).extracting(AggregatedIntelligence::version).containsExactly(1L, 2L, 1L);
        AggregatedIntelligence again = out.get(2);
        assertThat(again.pii()).as("forgotten with the old conversation").isNull();
        assertThat(again.sentiment()).isEqualTo(answer("sentiment", 1));
    }
}

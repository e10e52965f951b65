package io.signalstream.functions;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.Feedback;
import io.signalstream.events.LearningSignal;
import io.signalstream.events.SourceRef;
import io.signalstream.events.Usage;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;

import static org.assertj.core.api.Assertions.assertThat;

/** The feedback join in a keyed two-input harness, on processing time. */
class FeedbackJoinFunctionTest {

    private static final Duration TTL = Duration.ofMinutes(10);
    private static final List<String> AGENTS = List.of("pii", "sentiment", "insights", "summary");
    private static final String TENANT = "TeamYouTube";
    private static final String CONV = "NFUDPkkooFvg5tf3xszV";
    private static final long START = 1_000_000L;

    private KeyedTwoInputStreamOperatorTestHarness<String, Feedback, AgentResult, LearningSignal>
            harness;

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, Feedback, AgentResult, LearningSignal>
            newHarness() throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new FeedbackJoinFunction(TTL, AGENTS)),
                Feedback::conversationKey,
                AgentResult::conversationKey,
                Types.STRING);
    }

    @BeforeEach
    void open() throws Exception {
        harness = newHarness();
        harness.open();
        harness.setProcessingTime(START);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    static Feedback feedback(
            String id, String tenant, long version, String agent, String field, String expected) {
        return new Feedback(
                id,
                tenant,
                CONV,
                version,
                agent,
                field,
                expected,
                "supervisor-7",
                null,
                Instant.parse("2020-04-01T16:00:00Z"),
                new SourceRef("support.feedback", 0, 42));
    }

    static Feedback sentimentLabel(String id, long version, String expected) {
        return feedback(id, TENANT, version, "sentiment", "label", "\"" + expected + "\"");
    }

    static AgentResult result(String tenant, long version, String agent, String status) {
        Map<String, Object> answer =
                AgentStatus.OK.equals(status)
                        ? Map.of(
                                "label",
                                "negative",
                                "score",
                                -0.7,
                                "entities",
                                List.of(Map.of("type", "EMAIL")))
                        : Map.of();
        return new AgentResult(
                tenant,
                CONV,
                version,
                "msg-" + version,
                agent,
                status,
                "local",
                "vader-lexicon-v1",
                "vader-v2",
                "hash-" + version,
                12,
                1,
                Usage.NONE,
                answer,
                AgentStatus.OK.equals(status) ? null : "boom");
    }

    static AgentResult sentiment(long version) {
        return result(TENANT, version, "sentiment", AgentStatus.OK);
    }

    private List<LearningSignal> signals() {
        return harness.extractOutputValues();
    }

    private List<DeadLetter> deadLetters() {
        Queue<StreamRecord<DeadLetter>> q =
                harness.getSideOutput(FeedbackJoinFunction.DEAD_LETTERS);
        List<DeadLetter> out = new ArrayList<>();
        if (q != null) {
            q.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    @Test
    void feedbackAfterItsResultIsJoinedAtOnce() throws Exception {
        harness.processElement2(sentiment(3), 0L);
        harness.processElement1(sentimentLabel("fb-1", 3, "Negative "), 0L);

        assertThat(signals()).hasSize(1);
        LearningSignal s = signals().get(0);
        assertThat(s.signalId()).isEqualTo(FeedbackJoinFunction.signalId(TENANT, CONV, "fb-1"));
        assertThat(s.tenantId()).isEqualTo(TENANT);
        assertThat(s.conversationId()).isEqualTo(CONV);
        assertThat(s.version()).isEqualTo(3);
        assertThat(s.agent()).isEqualTo("sentiment");
        assertThat(s.field()).isEqualTo("label");
        assertThat(s.predicted()).isEqualTo("\"negative\"");
        assertThat(s.expected()).isEqualTo("\"Negative \"");
        assertThat(s.agreed()).as("case and blanks ignored").isTrue();
        assertThat(s.provider()).isEqualTo("local");
        assertThat(s.model()).isEqualTo("vader-lexicon-v1");
        assertThat(s.promptVersion()).isEqualTo("vader-v2");
        assertThat(s.promptHash()).isEqualTo("hash-3");
        assertThat(s.feedbackId()).isEqualTo("fb-1");
        assertThat(s.userId()).isEqualTo("supervisor-7");
        assertThat(s.timestamp()).isEqualTo(Instant.parse("2020-04-01T16:00:00Z"));
        assertThat(deadLetters()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void feedbackBeforeItsResultWaitsForIt() throws Exception {
        harness.processElement1(sentimentLabel("fb-1", 2, "positive"), 0L);
        assertThat(signals()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

        harness.processElement2(sentiment(1), 0L);
        harness.processElement2(result(TENANT, 2, "pii", AgentStatus.OK), 0L);
        assertThat(signals()).as("other versions and agents do not match").isEmpty();

        harness.setProcessingTime(START + TTL.toMillis() - 1);
        harness.processElement2(sentiment(2), 0L);
        assertThat(signals()).hasSize(1);
        assertThat(signals().get(0).agreed()).isFalse();
        assertThat(signals().get(0).predicted()).isEqualTo("\"negative\"");

        harness.setProcessingTime(START + 2 * TTL.toMillis());
        assertThat(deadLetters()).as("the timer finds nothing left").isEmpty();
        assertThat(signals()).hasSize(1);
    }

    @Test
    void wrongVersionGoesToTheDeadLettersAfterTheTtl() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement2(sentiment(2), 0L);
        harness.processElement1(sentimentLabel("fb-9", 9, "negative"), 0L);

        harness.setProcessingTime(START + TTL.toMillis() - 1);
        assertThat(deadLetters()).isEmpty();
        harness.setProcessingTime(START + TTL.toMillis());

        assertThat(signals()).isEmpty();
        List<DeadLetter> dlq = deadLetters();
        assertThat(dlq).hasSize(1);
        DeadLetter d = dlq.get(0);
        assertThat(d.stage()).isEqualTo(FeedbackJoinFunction.STAGE);
        assertThat(d.errorType()).isEqualTo("wrong_version");
        assertThat(d.errorMessage()).contains("version 9").contains("[1, 2]");
        assertThat(d.tenantId()).isEqualTo(TENANT);
        assertThat(d.source()).isEqualTo(new SourceRef("support.feedback", 0, 42));
        JsonNode original = Json.MAPPER.readTree(d.original());
        assertThat(original.get("feedback_id").asText()).isEqualTo("fb-9");
        assertThat(original.get("expected").asText()).isEqualTo("negative");

        // a late result does not resurrect it
        harness.processElement2(sentiment(9), 0L);
        assertThat(signals()).isEmpty();
    }

    @Test
    void feedbackOnAConversationWithoutResultsNamesIt() throws Exception {
        harness.processElement1(sentimentLabel("fb-1", 1, "negative"), 0L);
        harness.setProcessingTime(START + TTL.toMillis());
        assertThat(deadLetters())
                .extracting(DeadLetter::errorType)
                .containsExactly("unknown_conversation");
    }

    @Test
    void unknownAgentGoesToTheDeadLettersAtOnce() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement1(feedback("fb-1", TENANT, 1, "horoscope", "sign", "\"leo\""), 0L);

        assertThat(signals()).isEmpty();
        assertThat(deadLetters())
                .extracting(DeadLetter::errorType)
                .containsExactly("unknown_agent");
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void unknownFieldAndFailedResultsAreDeadLettered() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement2(result(TENANT, 2, "sentiment", AgentStatus.TIMEOUT), 0L);
        harness.processElement1(feedback("fb-1", TENANT, 1, "sentiment", "colour", "\"blue\""), 0L);
        harness.processElement1(sentimentLabel("fb-2", 2, "negative"), 0L);

        assertThat(signals()).isEmpty();
        assertThat(deadLetters())
                .extracting(DeadLetter::errorType)
                .containsExactly("unknown_field", "no_answer");
    }

    @Test
    void numbersCompareByValueAndPathsReachIntoLists() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement1(feedback("fb-1", TENANT, 1, "sentiment", "score", "-0.70"), 0L);
        harness.processElement1(
                feedback("fb-2", TENANT, 1, "sentiment", "entities.0.type", "\"PHONE\""), 0L);

        assertThat(signals()).extracting(LearningSignal::agreed).containsExactly(true, false);
        assertThat(signals().get(1).predicted()).isEqualTo("\"EMAIL\"");
    }

    @Test
    void duplicateFeedbackGivesOneSignal() throws Exception {
        harness.processElement1(sentimentLabel("fb-1", 1, "negative"), 0L);
        harness.processElement1(sentimentLabel("fb-1", 1, "negative"), 0L);
        harness.processElement2(sentiment(1), 0L);
        harness.processElement1(sentimentLabel("fb-1", 1, "negative"), 0L);

        assertThat(signals()).hasSize(1);
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void anotherTenantsFeedbackNeverMatches() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement1(feedback("fb-x", "Intruder", 1, "sentiment", "label", "\"x\""), 0L);
        assertThat(signals()).isEmpty();
        harness.setProcessingTime(START + TTL.toMillis());
        assertThat(deadLetters())
                .extracting(DeadLetter::errorType, DeadLetter::tenantId)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("unknown_conversation", "Intruder"));
    }

    @Test
    void pendingFeedbackResultsAndSeenIdsSurviveSnapshotAndRestore() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement1(sentimentLabel("fb-1", 1, "negative"), 0L);
        harness.processElement1(sentimentLabel("fb-2", 2, "negative"), 0L);
        harness.processElement1(sentimentLabel("fb-3", 3, "negative"), 0L);
        OperatorSubtaskState snap = harness.snapshot(1L, START);
        assertThat(signals()).hasSize(1);
        harness.close();

        harness = newHarness();
        harness.initializeState(snap);
        harness.open();
        harness.setProcessingTime(START + 1);

        // the result kept in state meets new feedback; the seen id is still a duplicate
        harness.processElement1(sentimentLabel("fb-1", 1, "negative"), 0L);
        harness.processElement1(feedback("fb-4", TENANT, 1, "sentiment", "score", "-0.7"), 0L);
        // the pending feedback still waits for its result, and its timer still fires
        harness.processElement2(sentiment(2), 0L);
        assertThat(signals())
                .extracting(LearningSignal::feedbackId)
                .containsExactly("fb-4", "fb-2");
        harness.setProcessingTime(START + TTL.toMillis());
        assertThat(deadLetters())
                .extracting(DeadLetter::errorType)
                .containsExactly("wrong_version");
        assertThat(
                        Json.MAPPER
                                .readTree(deadLetters().get(0).original())
                                .get("feedback_id")
                                .asText())
                .isEqualTo("fb-3");
    }

    @Test
    void signalJsonCarriesTheValuesAsJson() throws Exception {
        harness.processElement2(sentiment(1), 0L);
        harness.processElement1(feedback("fb-1", TENANT, 1, "sentiment", "score", "-0.5"), 0L);
        LearningSignal s = signals().get(0);
        JsonNode json = Json.MAPPER.readTree(Json.toString(s));
        assertThat(json.get("predicted").isNumber()).isTrue();
        assertThat(json.get("predicted").asDouble()).isEqualTo(-0.7);
        assertThat(json.get("expected").asDouble()).isEqualTo(-0.5);
        assertThat(json.get("prompt_version").asText()).isEqualTo("vader-v2");
        assertThat(Json.fromBytes(Json.toBytes(s), LearningSignal.class)).isEqualTo(s);
    }
}

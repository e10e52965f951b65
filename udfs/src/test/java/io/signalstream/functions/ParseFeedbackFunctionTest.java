package io.signalstream.functions;

import io.signalstream.events.DeadLetter;
import io.signalstream.events.Feedback;
import io.signalstream.events.RawRecord;
import io.signalstream.events.SourceRef;
import io.signalstream.serde.FeedbackParser;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Valid feedback passes, every invalid record reaches the dead letters with its reason. */
class ParseFeedbackFunctionTest {

    private static RawRecord record(long offset, byte[] value) {
        return new RawRecord("support.feedback", 2, offset, 1_700_000_000_000L, null, value);
    }

    @Test
    void validFeedbackPassesAndInvalidIsDeadLetteredWithItsReasonAndOriginal() throws Exception {
        String valid =
                "{\"feedback_id\":\"fb-1\",\"tenant_id\":\"acme\",\"conversation_id\":\"c1\","
                        + "\"version\":2,\"agent\":\"insights\",\"field\":\"urgency\","
                        + "\"expected\":\"critical\",\"user_id\":\"u1\"}";
        try (OneInputStreamOperatorTestHarness<RawRecord, Feedback> h =
                ProcessFunctionTestHarnesses.forProcessFunction(
                        new ParseFeedbackFunction(
                                new FeedbackParser(
                                        List.of("pii", "sentiment", "insights", "summary"),
                                        128,
                                        Duration.ofDays(1))))) {
            h.setProcessingTime(1_700_000_000_000L);
            h.processElement(record(1, valid.getBytes(StandardCharsets.UTF_8)), 0L);
            h.processElement(record(2, "{oops".getBytes(StandardCharsets.UTF_8)), 0L);
            h.processElement(
                    record(3, valid.replace("insights", "tarot").getBytes(StandardCharsets.UTF_8)),
                    0L);
            h.processElement(record(4, new byte[] {(byte) 0xff, (byte) 0xfe}), 0L);
            h.processElement(record(5, null), 0L);

            assertThat(h.extractOutputValues())
                    .singleElement()
                    .satisfies(
                            f -> {
                                assertThat(f.feedbackId()).isEqualTo("fb-1");
                                assertThat(f.source())
                                        .isEqualTo(new SourceRef("support.feedback", 2, 1));
                            });
            List<DeadLetter> dead = new ArrayList<>();
            for (StreamRecord<DeadLetter> r : h.getSideOutput(ParseFeedbackFunction.DEAD_LETTERS)) {
                dead.add(r.getValue());
            }
            assertThat(dead)
                    .extracting(DeadLetter::errorType)
                    .containsExactly(
                            "malformed_json", "unknown_agent", "invalid_utf8", "null_value");
            assertThat(dead).allMatch(d -> d.stage().equals(ParseFeedbackFunction.STAGE));
            assertThat(dead.get(0).original()).isEqualTo("{oops");
            assertThat(dead.get(1).tenantId()).isEqualTo("acme");
            assertThat(dead.get(1).source()).isEqualTo(new SourceRef("support.feedback", 2, 3));
            assertThat(dead.get(2).originalEncoding()).isEqualTo("base64");
        }
    }
}

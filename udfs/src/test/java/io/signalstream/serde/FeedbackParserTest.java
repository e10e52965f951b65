package io.signalstream.serde;

import io.signalstream.events.Feedback;
import io.signalstream.events.RawRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FeedbackParserTest {

    private static final Instant NOW = Instant.parse("2024-01-01T12:00:00Z");
    private static final FeedbackParser PARSER =
            new FeedbackParser(
                    List.of("pii", "sentiment", "insights", "summary"), 128, Duration.ofDays(1));

    private static RawRecord record(String json) {
        return new RawRecord(
                "support.feedback",
                1,
                7,
                NOW.minusSeconds(5).toEpochMilli(),
                null,
                json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }

    private static final String VALID =
            "{\"feedback_id\":\"fb-1\",\"tenant_id\":\"acme\",\"conversation_id\":\"c1\","
                    + "\"version\":3,\"agent\":\"sentiment\",\"field\":\"label\","
                    + "\"expected\":\"negative\",\"user_id\":\"u-1\",\"comment\":\"angry\","
                    + "\"timestamp\":\"2024-01-01T11:00:00+01:00\"}";

    @Test
    void parsesAValidRecord() throws Exception {
        Feedback f = PARSER.parse(record(VALID), NOW);
        assertThat(f.feedbackId()).isEqualTo("fb-1");
        assertThat(f.tenantId()).isEqualTo("acme");
        assertThat(f.conversationId()).isEqualTo("c1");
        assertThat(f.version()).isEqualTo(3);
        assertThat(f.agent()).isEqualTo("sentiment");
        assertThat(f.field()).isEqualTo("label");
        assertThat(f.expected()).isEqualTo("\"negative\"");
        assertThat(f.userId()).isEqualTo("u-1");
        assertThat(f.comment()).isEqualTo("angry");
        assertThat(f.timestamp()).isEqualTo(Instant.parse("2024-01-01T10:00:00Z"));
        assertThat(f.source().offset()).isEqualTo(7);
        assertThat(f.conversationKey()).isEqualTo("acme:c1");
    }

    @Test
    void aMissingTimestampTakesTheRecordTimeAndScalarsOfAnyTypeAreKept() throws Exception {
        Feedback f =
                PARSER.parse(
                        record(
                                VALID.replace(",\"timestamp\":\"2024-01-01T11:00:00+01:00\"", "")
                                        .replace("\"negative\"", "-0.25")),
                        NOW);
        assertThat(f.timestamp()).isEqualTo(NOW.minusSeconds(5));
        assertThat(f.expected()).isEqualTo("-0.25");
        assertThat(PARSER.parse(record(VALID.replace("\"negative\"", "true")), NOW).expected())
                .isEqualTo("true");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "RAW|not json|malformed_json",
                "RAW|[1]|not_an_object",
                "RAW|{}|missing_field",
                "VALID:\"version\":3|\"version\":0|invalid_version",
                "VALID:\"version\":3|\"version\":\"3\"|invalid_version",
                "VALID:\"agent\":\"sentiment\"|\"agent\":\"horoscope\"|unknown_agent",
                "VALID:\"field\":\"label\"|\"field\":\"label..x\"|invalid_field",
                "VALID:\"expected\":\"negative\"|\"expected\":{\"a\":1}|invalid_expected",
                "VALID:\"expected\":\"negative\"|\"expected\":null|missing_field",
                "VALID:\"user_id\":\"u-1\"|\"user_id\":7|wrong_type",
                "VALID:\"tenant_id\":\"acme\"|\"tenant_id\":\"a:b\"|invalid_id",
                "VALID:2024-01-01T11:00:00+01:00|2030-01-01T00:00:00Z|future_timestamp",
                "VALID:2024-01-01T11:00:00+01:00|yesterday|invalid_timestamp",
            })
    void rejectsInvalidFeedbackWithItsReason(String input, String replacement, String reason) {
        String body =
                input.equals("RAW") ? replacement : VALID.replace(input.substring(6), replacement);
        String expectedReason = reason;
        assertThatThrownBy(() -> PARSER.parse(record(body), NOW))
                .isInstanceOfSatisfying(
                        MessageValidationException.class,
                        e -> assertThat(e.errorType()).isEqualTo(expectedReason));
    }

    @Test
    void nullValueIsRejected() {
        assertThatThrownBy(() -> PARSER.parse(record(null), NOW))
                .isInstanceOfSatisfying(
                        MessageValidationException.class,
                        e -> assertThat(e.errorType()).isEqualTo("null_value"));
    }

    @Test
    void withoutAnAgentListAnyAgentNameIsAccepted() throws Exception {
        FeedbackParser any = new FeedbackParser(null, 128, Duration.ofDays(1));
        assertThat(any.parse(record(VALID.replace("sentiment", "tone")), NOW).agent())
                .isEqualTo("tone");
    }
}

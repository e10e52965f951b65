package io.signalstream.local.eval;

import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The evaluator on tiny files whose scores are worked out by hand. */
class EvaluatorTest {

    @TempDir Path tmp;

    private Map<String, Object> run(String task, Path file) throws Exception {
        try (Evaluator e = new Evaluator("local", new Configuration(), 4, null)) {
            return e.run(task, file, 0);
        }
    }

    @Test
    void piiCountsExactAndOverlappingMatchesPerType() throws Exception {
        String text = "Mail bob@example.com or call me tomorrow";
        int at = text.indexOf("bob@example.com");
        int bob = text.indexOf("tomorrow");
        Path f = tmp.resolve("pii.json");
        // Gold: the e-mail with one character too many (overlap only) and a DATE_TIME the local
        // recognizers cannot find.
        Files.writeString(
                f,
                "[{\"full_text\": "
                        + Json.toString(text)
                        + ", \"spans\": ["
                        + "{\"entity_type\": \"EMAIL_ADDRESS\", \"start_position\": "
                        + at
                        + ", \"end_position\": "
                        + (at + 16)
                        + "},"
                        + "{\"entity_type\": \"DATE_TIME\", \"start_position\": "
                        + bob
                        + ", \"end_position\": "
                        + (bob + 8)
                        + "}]}]");
        JsonNode r = Json.MAPPER.valueToTree(run("pii", f));
        assertThat(r.at("/per_type/EMAIL_ADDRESS/precision").asDouble()).isZero();
        assertThat(r.at("/overlap/per_type/EMAIL_ADDRESS/precision").asDouble()).isEqualTo(1.0);
        assertThat(r.at("/overlap/per_type/EMAIL_ADDRESS/recall").asDouble()).isEqualTo(1.0);
        assertThat(r.at("/overlap/per_type/DATE_TIME/recall").asDouble()).isZero();
        assertThat(r.at("/overlap/per_type/DATE_TIME/support").asInt()).isEqualTo(1);
        // Micro over both gold spans: 1 of 1 prediction right, 1 of 2 found.
        assertThat(r.at("/overlap/micro/precision").asDouble()).isEqualTo(1.0);
        assertThat(r.at("/overlap/micro/recall").asDouble()).isEqualTo(0.5);
        // The e-mail finding covers a gold span (off by one char): it redacted PII.
        assertThat(r.at("/redaction_precision/EMAIL_ADDRESS/on_pii").asInt()).isEqualTo(1);
        assertThat(r.at("/redaction_precision/EMAIL_ADDRESS/found").asInt()).isEqualTo(1);
        // The held-out part is the record or nothing, by the split's hash of its text.
        assertThat(r.at("/held_out/records").asInt()).isEqualTo(PiiSplit.isHeldOut(text) ? 1 : 0);
        assertThat(r.at("/held_out/at_confidence/0.6").isObject()).isTrue();
        assertThat(r.get("errors").asInt()).isZero();
    }

    @Test
    void sentimentAccuracyAndMacroF1() throws Exception {
        Path f = tmp.resolve("s.csv");
        Files.writeString(
                f,
                "tweet_id,airline_sentiment,text\n"
                        + "1,positive,\"I love this airline, great service!\"\n"
                        + "2,negative,\"Worst flight ever, terrible and rude staff\"\n"
                        + "3,neutral,\"I love it\"\n");
        Map<String, Object> r = run("sentiment", f);
        // VADER calls the third one positive: 2 of 3 right.
        assertThat((double) r.get("accuracy")).isEqualTo(Scores.round(2.0 / 3));
        // positive: P 1/2 R 1 → F1 2/3; negative: 1; neutral: 0 → macro (2/3 + 1 + 0) / 3.
        assertThat((double) r.get("macro_f1")).isEqualTo(Scores.round((2.0 / 3 + 1) / 3));
    }

    @Test
    void intentUsesTheBitextMapping() throws Exception {
        Path f = tmp.resolve("i.csv");
        Files.writeString(
                f,
                "instruction,intent,category\n"
                        + "\"I want a refund for my order\",get_refund,REFUND\n"
                        + "\"how do I recover my password\",recover_password,ACCOUNT\n"
                        + "\"something unrelated\",some_new_intent,OTHER\n");
        Map<String, Object> r = run("intent", f);
        assertThat(r.get("unmapped")).isEqualTo(1);
        assertThat((double) r.get("accuracy")).isEqualTo(1.0);
    }

    @Test
    void summaryRougeAgainstTheBestReference() throws Exception {
        Path f = tmp.resolve("t.jsonl");
        Files.writeString(
                f,
                "{\"turns\": [{\"sender\": \"customer\", \"message\": \"My package never arrived"
                    + " and I want a refund.\"}], \"abstractive_summaries\": [\"Customer asks about"
                    + " weather.\", \"My package never arrived and I want a refund.\"]}\n");
        Map<String, Object> r = run("summary", f);
        // The extractive summary quotes the customer: the second reference matches nearly word for
        // word.
        assertThat((double) r.get("rouge1")).isGreaterThan(0.8);
        assertThat((double) r.get("rouge_l")).isGreaterThan(0.8);
        assertThat((double) r.get("rouge2")).isGreaterThan(0.7);
    }

    @Test
    void unknownTaskIsAClearError() {
        assertThatThrownBy(() -> run("horoscope", tmp.resolve("x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("horoscope");
    }
}

package io.signalstream.local.eval;

import io.signalstream.agents.local.PiiDetector;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        // Reliability of the entities' confidence: one finding, right by overlap (a validated
        // recognizer), with the calibrated confidence of the e-mail level.
        assertThat(r.at("/calibration/with_confidence").asInt()).isEqualTo(1);
        assertThat(r.at("/calibration/reliability/0/accuracy").asDouble()).isEqualTo(1.0);
        assertThat(r.at("/calibration/reliability/0/mean_confidence").asDouble())
                .isGreaterThan(PiiDetector.SCORE_EMAIL)
                .isLessThan(1.0);
        assertThat(r.get("errors").asInt()).isZero();
    }

    @Test
    @SuppressWarnings("unchecked")
    void sentimentAccuracyMacroF1AndCalibration() throws Exception {
        Path f = tmp.resolve("s.csv");
        Files.writeString(
                f,
                "tweet_id,airline_sentiment,text\n"
                        + "1,positive,\"I love this airline, great service, thank you!\"\n"
                        + "2,negative,\"Worst flight ever, terrible and rude staff\"\n"
                        + "3,neutral,\"What time does the gate open for flight 22?\"\n"
                        + "4,neutral,\"I love it, wonderful\"\n");
        Map<String, Object> r = run("sentiment", f);
        // The model calls the fourth one positive: 3 of 4 right.
        assertThat((double) r.get("accuracy")).isEqualTo(0.75);
        // positive: P 1/2 R 1 → F1 2/3; negative: 1; neutral: P 1 R 1/2 → 2/3.
        assertThat((double) r.get("macro_f1")).isEqualTo(Scores.round((2.0 / 3 + 1 + 2.0 / 3) / 3));
        Map<String, Object> c = (Map<String, Object>) r.get("calibration");
        assertThat(c.get("with_confidence")).isEqualTo(4);
        int binned = 0;
        for (Map<String, Object> bin : (List<Map<String, Object>>) c.get("reliability")) {
            binned += (Integer) bin.get("count");
        }
        assertThat(binned).isEqualTo(4);
        List<Map<String, Object>> th = (List<Map<String, Object>>) c.get("thresholds");
        assertThat(th).hasSize(Scores.THRESHOLDS.length);
        // Coverage can only shrink as the threshold rises.
        for (int i = 1; i < th.size(); i++) {
            assertThat((double) th.get(i).get("coverage"))
                    .isLessThanOrEqualTo((double) th.get(i - 1).get("coverage"));
        }
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
        // The held-out block counts exactly the mapped rows the trainer never reads.
        long heldOut =
                java.util.stream.Stream.of(
                                "I want a refund for my order", "how do I recover my password")
                        .filter(TrainingSplits::heldOut)
                        .count();
        @SuppressWarnings("unchecked")
        Map<String, Object> held = (Map<String, Object>) r.get("held_out");
        assertThat(((Number) held.get("records")).longValue()).isEqualTo(heldOut);
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

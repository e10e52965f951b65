package io.signalstream.local.eval;

import io.signalstream.events.LearningSignal;
import io.signalstream.local.cli.EvalCommand;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Learning signals as a labelled data set: agreement per agent and prompt version, the (input,
 * expected) pairs, and a sentiment CSV that {@code eval --task sentiment} scores.
 */
class LearningSignalSetTest {

    @TempDir Path tmp;

    private static String signal(
            String id,
            String conv,
            long version,
            String agent,
            String field,
            String predicted,
            String expected,
            boolean agreed,
            String prompt) {
        return Json.toString(
                new LearningSignal(
                        id,
                        "acme",
                        conv,
                        version,
                        agent,
                        field,
                        predicted,
                        expected,
                        agreed,
                        "local",
                        "vader-lexicon-v1",
                        prompt,
                        "hash",
                        "fb-" + id,
                        "reviewer",
                        Instant.parse("2024-05-01T10:00:00Z")));
    }

    private Path files() throws Exception {
        Path messages = tmp.resolve("messages.jsonl");
        Files.write(
                messages,
                List.of(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"customer\",\"message\":\"This"
                            + " is terrible, I want my money back\"}",
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"agent\","
                                + "\"message\":\"Sorry to hear that\"}",
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c2\",\"sender\":\"customer\",\"message\":\"Thanks,"
                            + " great service, love it\"}",
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"customer\","
                            + "\"message\":\"ok\"}"));
        Path signals = tmp.resolve("signals.jsonl");
        String first =
                signal(
                        "s1",
                        "c1",
                        1,
                        "sentiment",
                        "label",
                        "\"negative\"",
                        "\"negative\"",
                        true,
                        "v1");
        Files.write(
                signals,
                List.of(
                        first,
                        signal(
                                "s2",
                                "c2",
                                1,
                                "sentiment",
                                "label",
                                "\"neutral\"",
                                "\"Positive\"",
                                false,
                                "v1"),
                        signal(
                                "s3",
                                "c1",
                                3,
                                "sentiment",
                                "label",
                                "\"neutral\"",
                                "\"neutral\"",
                                true,
                                "v1"),
                        "",
                        signal(
                                "s4",
                                "c1",
                                1,
                                "sentiment",
                                "label",
                                "\"negative\"",
                                "\"negative\"",
                                true,
                                "v2"),
                        signal("s5", "c1", 1, "pii", "has_pii", "false", "false", true, "pii-v1"),
                        first));
        return signals;
    }

    @Test
    void reportsAgreementPerAgentAndPromptVersionWithoutDuplicates() throws Exception {
        List<JsonNode> signals = LearningSignalSet.readFile(files());
        assertThat(signals).hasSize(5);
        JsonNode r = Json.MAPPER.valueToTree(LearningSignalSet.report(signals));
        assertThat(r.get("records").asInt()).isEqualTo(5);
        assertThat(r.get("agreed").asInt()).isEqualTo(4);
        assertThat(r.get("agreement").asDouble()).isEqualTo(0.8);
        List<String> rows = new ArrayList<>();
        r.get("per_prompt")
                .forEach(
                        p ->
                                rows.add(
                                        p.get("agent").asText()
                                                + "/"
                                                + p.get("prompt_version").asText()
                                                + " "
                                                + p.get("agreed").asInt()
                                                + "/"
                                                + p.get("judged").asInt()));
        assertThat(rows).containsExactly("pii/pii-v1 1/1", "sentiment/v1 2/3", "sentiment/v2 1/1");
    }

    @Test
    void evalWritesPairsAndASentimentCsvThatEvalCanScore() throws Exception {
        Path signals = files();
        Path report = tmp.resolve("report.json");
        Path pairs = tmp.resolve("pairs.jsonl");
        int code =
                new CommandLine(new EvalCommand())
                        .execute(
                                "--learning-signals", signals.toString(),
                                "--messages", tmp.resolve("messages.jsonl").toString(),
                                "--pairs", pairs.toString(),
                                "--report", report.toString());
        assertThat(code).isZero();
        assertThat(Json.MAPPER.readTree(report.toFile()).get("records").asInt()).isEqualTo(5);

        List<String> lines = Files.readAllLines(pairs);
        assertThat(lines).hasSize(5);
        JsonNode p2 = Json.MAPPER.readTree(lines.get(1));
        assertThat(p2.get("signal_id").asText()).isEqualTo("s2");
        assertThat(p2.get("input").asText()).isEqualTo("Thanks, great service, love it");
        assertThat(p2.get("expected").asText()).isEqualTo("Positive");
        assertThat(p2.get("predicted").asText()).isEqualTo("neutral");
        assertThat(Json.MAPPER.readTree(lines.get(2)).get("input").asText()).isEqualTo("ok");

        // The sentiment labels are a data set of eval --task sentiment: scored by the local
        // provider against the humans' labels.
        Path csv = tmp.resolve("pairs-sentiment.csv");
        assertThat(Files.readAllLines(csv)).first().isEqualTo("text,airline_sentiment");
        assertThat(Files.readAllLines(csv)).hasSize(1 + 4);
        assertThat(Files.readString(csv)).contains(",positive\n").doesNotContain("Positive");
        try (Evaluator e = new Evaluator("local", new Configuration(), 2, null)) {
            Map<String, Object> scored = e.run("sentiment", csv, 0);
            assertThat(scored.get("records")).isEqualTo(4);
            assertThat((Double) scored.get("accuracy")).isBetween(0.0, 1.0);
        }
    }

    @Test
    void refusesAFileThatIsNotSignals() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"hello\":1}\n");
        int code =
                new CommandLine(new EvalCommand())
                        .execute(
                                "--learning-signals",
                                bad.toString(),
                                "--report",
                                tmp.resolve("r.json").toString());
        assertThat(code).isEqualTo(2);
        assertThat(tmp.resolve("r.json")).doesNotExist();
    }
}

package io.signalstream.local.cli;

import io.signalstream.local.ConversationReplayer;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code demo} command end to end, as a user runs it: in-process broker, local MiniCluster, a
 * data file with real conversations and one malformed line, a JSON report.
 */
class DemoCommandITCase {

    @TempDir Path tmp;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void demoAccountsForEveryMessageAndWritesTheReport() throws Exception {
        // The first 40 conversations of the bundled data, plus a line that is not JSON.
        List<String> all = ConversationReplayer.readLines(null);
        List<String> lines = new ArrayList<>();
        Set<String> conversations = new HashSet<>();
        for (String l : all) {
            JsonNode n = Json.MAPPER.readTree(l);
            String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
            if (conversations.size() < 40 || conversations.contains(key)) {
                conversations.add(key);
                lines.add(l);
            }
        }
        lines.add("{ this line is broken");
        Path data = tmp.resolve("data.jsonl");
        Files.write(data, lines, StandardCharsets.UTF_8);
        Path report = tmp.resolve("report.json");

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        try {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            code =
                    new CommandLine(new DemoCommand())
                            .execute(
                                    "--data",
                                    data.toString(),
                                    "--speed",
                                    "0",
                                    "--report",
                                    report.toString(),
                                    "--work-dir",
                                    tmp.resolve("work").toString(),
                                    "--timeout",
                                    "150",
                                    "-D",
                                    "signalstream.agents.timeout=5s");
        } finally {
            System.setOut(original);
        }
        String output = printed.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isZero();

        JsonNode r = Json.MAPPER.readTree(report.toFile());
        int valid = lines.size() - 1;
        assertThat(r.get("messages_in").asInt()).isEqualTo(lines.size());
        assertThat(r.get("snapshots").asInt()).isEqualTo(valid);
        assertThat(r.get("aggregated_out").asInt()).isEqualTo(valid);
        assertThat(r.get("complete").asInt() + r.get("partial").asInt()).isEqualTo(valid);
        assertThat(r.get("lineage_out").asInt()).isEqualTo(valid);
        assertThat(r.get("dead_lettered").asInt()).isEqualTo(1);
        assertThat(r.at("/dead_letter_reasons/malformed_json").asInt()).isEqualTo(1);
        assertThat(r.get("missing").asInt()).isZero();
        assertThat(r.get("duplicates").asInt()).isZero();
        assertThat(r.get("elapsed_s").asDouble()).isPositive();
        assertThat(output).contains("What a read_committed consumer sees", "support.ai.aggregated");
        // alerts per type in the report, and the alerts printed
        JsonNode alerts = r.get("alerts");
        assertThat(alerts.isObject()).isTrue();
        int raised = 0;
        for (JsonNode n : alerts) {
            raised += n.asInt();
        }
        assertThat(raised).as("alerts raised on 40 real conversations").isPositive();
        assertThat(output).contains("Alerts raised (support.alerts): " + raised);
    }
}

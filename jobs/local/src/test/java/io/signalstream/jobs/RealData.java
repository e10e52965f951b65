package io.signalstream.jobs;

import io.signalstream.local.ConversationReplayer;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bundled real conversations and what the job must make of them, worked out here from the raw
 * lines, independently of the job's code.
 */
final class RealData {

    final List<String> lines;

    /** Every (tenant:conversation#version) the job must emit once. */
    final Set<String> expectedVersions = new HashSet<>();

    RealData() throws Exception {
        lines = ConversationReplayer.readLines(null);
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String line : lines) {
            JsonNode n = Json.MAPPER.readTree(line);
            String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
            expectedVersions.add(key + "#" + counts.merge(key, 1, Integer::sum));
        }
    }

    static String versionId(JsonNode n) {
        return n.get("tenant_id").asText()
                + ":"
                + n.get("conversation_id").asText()
                + "#"
                + n.get("version").asLong();
    }

    /**
     * Asserts exactly-once: one aggregated and one lineage record per expected version, no other,
     * no duplicate.
     */
    void assertExactlyOnce(Map<String, List<JsonNode>> out) {
        List<String> aggregated = new ArrayList<>();
        out.get("support.ai.aggregated").forEach(a -> aggregated.add(versionId(a)));
        assertThat(aggregated).as("aggregated duplicates").doesNotHaveDuplicates();
        assertThat(new HashSet<>(aggregated)).as("aggregated versions").isEqualTo(expectedVersions);
        List<String> lineage = new ArrayList<>();
        for (JsonNode l : out.get("support.lineage")) {
            JsonNode o = l.at("/data/output");
            lineage.add(o.get("key").asText() + "#" + o.get("version").asLong());
        }
        assertThat(lineage).as("lineage duplicates").doesNotHaveDuplicates();
        assertThat(new HashSet<>(lineage)).as("lineage outputs").isEqualTo(expectedVersions);
    }
}

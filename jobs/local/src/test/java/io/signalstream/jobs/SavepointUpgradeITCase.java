package io.signalstream.jobs;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.CommonTestUtils;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A savepoint upgrade: version 1 of the job processes the first half of the real conversations and
 * is stopped with a savepoint; a changed version 2 (another agent configuration and an added
 * operator) starts from it and processes the rest, plus a re-delivery of a message version 1
 * already counted. Counters, transcripts and de-duplication state must carry over, and the outputs
 * must stay exactly-once across the switch.
 */
class SavepointUpgradeITCase extends KafkaJobTestBase {

    private static Configuration baseConf() {
        return jobConf("upgrade-itcase");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void stateAndExactlyOnceCarryOverASavepointUpgrade() throws Exception {
        RealData data = new RealData();
        var events = ConversationReplayer.toEvents(data.lines);
        // Split inside a conversation, so one conversation spans both versions.
        int split = events.size() / 2;
        while (!events.get(split - 1).getKey().equals(events.get(split).getKey())) {
            split++;
        }
        int half = split;
        Configuration v1 = baseConf();
        String input = v1.get(JobOptions.TOPIC_INPUT);
        List<String> topics =
                List.of("support.ai.aggregated", "support.lineage", "support.conversations.state");

        // Version 1: the first half, then stop with a savepoint.
        JobClient job1 =
                submit(ConversationIntelligenceJob.kafka(v1, new Properties()), v1, "upgrade-v1");
        produce(input, events.subList(0, half));
        KafkaOutputs.readCommitted(
                broker.bootstrapServers(),
                topics,
                got -> got.get("support.ai.aggregated").size() >= half,
                Duration.ofMinutes(2));
        String savepoint =
                job1.stopWithSavepoint(
                                false,
                                tmp.resolve("savepoints").toUri().toString(),
                                SavepointFormatType.CANONICAL)
                        .get(2, TimeUnit.MINUTES);
        CommonTestUtils.waitForJobStatus(job1, List.of(JobStatus.FINISHED));

        // Version 2: summary on every message, an added operator, restored from the savepoint.
        Configuration v2 = baseConf();
        v2.set(AgentOptions.trigger("summary"), "every-message");
        v2.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        JobClient job2 =
                ConversationIntelligenceJob.kafka(v2, new Properties())
                        .withMessageStage(
                                m -> m.filter(x -> true).uid("v2-added-filter").name("added in v2"))
                        .executeAsync(
                                StreamExecutionEnvironment.getExecutionEnvironment(v2),
                                "upgrade-v2");
        try {
            List<Map.Entry<String, byte[]>> rest =
                    new ArrayList<>(events.subList(half, events.size()));
            rest.add(events.get(half - 1)); // re-delivery of a message version 1 counted
            produce(input, rest);
            Map<String, List<JsonNode>> out =
                    KafkaOutputs.readCommitted(
                            broker.bootstrapServers(),
                            topics,
                            got ->
                                    got.get("support.ai.aggregated").size()
                                                    >= data.expectedVersions.size()
                                            && got.get("support.lineage").size()
                                                    >= data.expectedVersions.size()
                                            && got.get("support.conversations.state").size()
                                                    >= data.expectedVersions.size(),
                            Duration.ofMinutes(3));

            data.assertExactlyOnce(out);
            assertThat(out.get("support.conversations.state"))
                    .hasSize(data.expectedVersions.size());

            // A conversation split across the switch: its transcript after the switch still
            // holds the messages version 1 saw.
            Map<String, Set<String>> idsBeforeByKey = new java.util.HashMap<>();
            for (var e : events.subList(0, half)) {
                JsonNode n = Json.MAPPER.readTree(e.getValue());
                idsBeforeByKey
                        .computeIfAbsent(
                                n.get("tenant_id").asText()
                                        + ":"
                                        + n.get("conversation_id").asText(),
                                k -> new HashSet<>())
                        .add(n.get("message_id").asText());
            }
            JsonNode firstAfter = null;
            Set<String> idsBefore = null;
            for (var e : events.subList(half, events.size())) {
                JsonNode n = Json.MAPPER.readTree(e.getValue());
                idsBefore =
                        idsBeforeByKey.get(
                                n.get("tenant_id").asText()
                                        + ":"
                                        + n.get("conversation_id").asText());
                if (idsBefore != null) {
                    firstAfter = n;
                    break;
                }
            }
            assertThat(firstAfter).as("a conversation split across the switch").isNotNull();
            JsonNode splitMessage = firstAfter;
            JsonNode snapshot =
                    out.get("support.conversations.state").stream()
                            .filter(
                                    x ->
                                            x.at("/last_message/message_id")
                                                    .asText()
                                                    .equals(
                                                            splitMessage
                                                                    .get("message_id")
                                                                    .asText()))
                            .findFirst()
                            .orElseThrow();
            Set<String> transcript = new HashSet<>();
            snapshot.get("recent_messages")
                    .forEach(m -> transcript.add(m.get("message_id").asText()));
            assertThat(snapshot.get("version").asLong()).isEqualTo(idsBefore.size() + 1L);
            assertThat(transcript).containsAll(idsBefore);
            // Version 2's configuration is in force: summary ran for that message.
            assertThat(snapshot.get("scheduled_agents").toString()).contains("summary");
            System.out.printf(
                    "savepoint upgrade: %d inputs (+1 re-delivery) across %s, aggregated %d,"
                            + " lineage %d, expected %d%n",
                    events.size(),
                    savepoint,
                    out.get("support.ai.aggregated").size(),
                    out.get("support.lineage").size(),
                    data.expectedVersions.size());
        } finally {
            cancel(job2);
        }
    }
}

package io.signalstream.jobs;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole job on a MiniCluster against the real in-process KRaft broker: the real conversation
 * file plus malformed records in, every output read back as a {@code read_committed} consumer.
 * Expected counts are worked out here from the input file, independently of the job's code.
 */
class ConversationIntelligenceJobITCase extends KafkaJobTestBase {

    /** Malformed records and the dead-letter reason each must get. */
    private static Map<byte[], String> malformed() {
        Map<byte[], String> m = new LinkedHashMap<>();
        m.put(utf8("this is not json"), "malformed_json");
        m.put(utf8("[1, 2, 3]"), "not_an_object");
        m.put(
                utf8("{\"tenant_id\":\"acme\",\"sender\":\"customer\",\"message\":\"hi\"}"),
                "missing_field");
        m.put(
                utf8(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":5,\"message\":\"hi\"}"),
                "wrong_type");
        m.put(
                utf8(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"bot\",\"message\":\"hi\"}"),
                "unknown_sender");
        m.put(
                utf8(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"\",\"sender\":\"customer\",\"message\":\"hi\"}"),
                "invalid_id");
        m.put(
                utf8(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"customer\",\"message\":\""
                            + "  \"}"),
                "empty_message");
        m.put(
                utf8(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"customer\",\"message\":\"hi\",\"timestamp\":\"yesterday\"}"),
                "invalid_timestamp");
        m.put(
                utf8(
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"customer\",\"message\":\"hi\",\"timestamp\":\""
                                + Instant.now().plus(Duration.ofDays(30))
                                + "\"}"),
                "future_timestamp");
        m.put(
                new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'},
                "invalid_utf8");
        m.put(null, "null_value");
        return m;
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void realConversationsAndMalformedRecordsExactlyOnce() throws Exception {
        Configuration conf = jobConf("itcase");
        // No Kryo anywhere on the data path or in state: a generic type fails the submission.
        assertThat(conf.get(PipelineOptions.GENERIC_TYPES)).isFalse();
        // Every version must come out complete: generous windows so that a stalled machine
        // cannot turn a slow local answer into a partial aggregate.
        conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(60));
        conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(90));

        // Input: the real conversations, one of them re-delivered, plus malformed records.
        List<String> lines = ConversationReplayer.readLines(null);
        var events = new ArrayList<>(ConversationReplayer.toEvents(lines));
        events.add(events.get(7)); // a re-delivery: same message id, must count once
        Map<byte[], String> bad = malformed();

        // Independent expectations, from the raw lines.
        Map<String, List<JsonNode>> byConversation = new LinkedHashMap<>();
        for (String line : lines) {
            JsonNode n = Json.MAPPER.readTree(line);
            byConversation
                    .computeIfAbsent(
                            n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText(),
                            k -> new ArrayList<>())
                    .add(n);
        }
        Set<String> expectedVersions = new HashSet<>();
        Map<String, String> expectedMessageOfVersion = new HashMap<>();
        int customerMessages = 0;
        for (var e : byConversation.entrySet()) {
            List<JsonNode> turns = new ArrayList<>(e.getValue());
            turns.sort(
                    (a, b) ->
                            Integer.compare(
                                    a.get("turn_index").asInt(), b.get("turn_index").asInt()));
            for (int i = 0; i < turns.size(); i++) {
                expectedVersions.add(e.getKey() + "#" + (i + 1));
                expectedMessageOfVersion.put(
                        e.getKey() + "#" + (i + 1), turns.get(i).get("source_msg_id").asText());
                if ("customer".equals(turns.get(i).get("sender").asText())) {
                    customerMessages++;
                }
            }
        }
        assertThat(expectedVersions).hasSize(1211);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        JobClient job =
                ConversationIntelligenceJob.kafka(conf, new Properties())
                        .executeAsync(env, "itcase");
        try {
            produce(conf.get(JobOptions.TOPIC_INPUT), events);
            Map<String, String> badByOffset = produceRaw(conf.get(JobOptions.TOPIC_INPUT), bad);

            int customers = customerMessages;
            Map<String, List<JsonNode>> out =
                    KafkaOutputs.readCommitted(
                            broker.bootstrapServers(),
                            List.of(
                                    "support.ai.aggregated",
                                    "support.lineage",
                                    "support.dlq",
                                    "support.conversations.state",
                                    "support.ai.pii",
                                    "support.ai.sentiment",
                                    "support.ai.insights",
                                    "support.ai.summary"),
                            got ->
                                    got.getOrDefault("support.ai.aggregated", List.of()).size()
                                                    >= expectedVersions.size()
                                            && got.getOrDefault("support.lineage", List.of()).size()
                                                    >= expectedVersions.size()
                                            && got.getOrDefault("support.dlq", List.of()).size()
                                                    >= bad.size()
                                            // each sink commits its own transaction: wait for all
                                            // of them
                                            && got.getOrDefault(
                                                                    "support.conversations.state",
                                                                    List.of())
                                                            .size()
                                                    >= expectedVersions.size()
                                            && got.getOrDefault("support.ai.pii", List.of()).size()
                                                    >= customers
                                            && got.getOrDefault("support.ai.sentiment", List.of())
                                                            .size()
                                                    >= customers
                                            && got.getOrDefault("support.ai.insights", List.of())
                                                            .size()
                                                    >= customers
                                            && !got.getOrDefault("support.ai.summary", List.of())
                                                    .isEmpty(),
                            Duration.ofMinutes(3));

            // Aggregated: exactly one record per (tenant, conversation, version), none missing.
            List<JsonNode> aggregated = out.get("support.ai.aggregated");
            List<String> aggregatedIds =
                    aggregated.stream().map(ConversationIntelligenceJobITCase::versionId).toList();
            assertThat(aggregatedIds).doesNotHaveDuplicates();
            assertThat(new HashSet<>(aggregatedIds)).isEqualTo(expectedVersions);
            for (JsonNode a : aggregated) {
                List<String> ids = new ArrayList<>();
                a.get("source_message_ids").forEach(n -> ids.add(n.asText()));
                assertThat(ids).last().isEqualTo(expectedMessageOfVersion.get(versionId(a)));
                assertThat(a.get("complete").asBoolean()).as("complete %s", versionId(a)).isTrue();
                assertThat(a.get("missing_agents")).isEmpty();
            }

            // Snapshots: one per version; pii scheduled exactly for customer messages.
            List<JsonNode> snapshots = out.get("support.conversations.state");
            assertThat(
                            snapshots.stream()
                                    .map(ConversationIntelligenceJobITCase::versionId)
                                    .toList())
                    .doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(expectedVersions);
            assertThat(out.get("support.ai.pii")).hasSize(customerMessages);
            assertThat(out.get("support.ai.sentiment")).hasSize(customerMessages);
            assertThat(out.get("support.ai.insights")).hasSize(customerMessages);
            assertThat(out.get("support.ai.summary")).isNotEmpty();

            // Lineage: one record per aggregated output, naming it and its input offset.
            List<JsonNode> lineage = out.get("support.lineage");
            assertThat(lineage).hasSize(expectedVersions.size());
            Set<String> lineageOutputs = new HashSet<>();
            for (JsonNode l : lineage) {
                JsonNode o = l.at("/data/output");
                assertThat(o.get("topic").asText()).isEqualTo("support.ai.aggregated");
                lineageOutputs.add(o.get("key").asText() + "#" + o.get("version").asLong());
                assertThat(l.at("/data/inputs")).isNotEmpty();
                assertThat(
                                l.at("/data/inputs")
                                        .get(l.at("/data/inputs").size() - 1)
                                        .get("topic")
                                        .asText())
                        .isEqualTo("support.messages.raw");
            }
            assertThat(lineageOutputs).isEqualTo(expectedVersions);

            // Dead letters: every malformed record, with its reason, and nothing else.
            List<JsonNode> dlq = out.get("support.dlq");
            assertThat(dlq).hasSize(bad.size());
            Map<String, String> seenReasons = new HashMap<>();
            for (JsonNode d : dlq) {
                assertThat(d.get("stage").asText()).isEqualTo("parse");
                assertThat(d.get("error_message").asText()).isNotBlank();
                seenReasons.put(
                        d.at("/source/partition").asInt() + ":" + d.at("/source/offset").asLong(),
                        d.get("error_type").asText());
            }
            assertThat(seenReasons).isEqualTo(badByOffset);
        } finally {
            cancel(job);
        }
    }

    private static Map<String, String> produceRaw(String topic, Map<byte[], String> records)
            throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        Map<String, String> byOffset = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Map.Entry<byte[], String> e : records.entrySet()) {
                RecordMetadata md =
                        producer.send(new ProducerRecord<>(topic, utf8("acme:c1"), e.getKey()))
                                .get();
                byOffset.put(md.partition() + ":" + md.offset(), e.getValue());
            }
        }
        return byOffset;
    }

    private static String versionId(JsonNode n) {
        return n.get("tenant_id").asText()
                + ":"
                + n.get("conversation_id").asText()
                + "#"
                + n.get("version").asLong();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

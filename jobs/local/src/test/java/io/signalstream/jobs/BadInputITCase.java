package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input never crashes the job and never disappears. One job run takes: one record of each kind
 * of bad input, each of which must reach {@code support.dlq} with its precise reason; a fuzz of
 * thousands of random and mutated records, each of which must end either as a snapshot with its
 * aggregated output or in the DLQ; and the same conversation id under two tenants, which must never
 * share state or output.
 */
class BadInputITCase extends KafkaJobTestBase {

    /** The message size limit set for this test (the default is 64 KiB). */
    static final int MAX_MESSAGE_BYTES = 2048;

    private static ObjectNode valid(String tenant, String conversation, String id, String text) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("message_id", id);
        n.put("tenant_id", tenant);
        n.put("conversation_id", conversation);
        n.put("sender", "customer");
        n.put("message", text);
        n.put("channel", "chat");
        n.put("timestamp", "2024-05-01T10:00:00Z");
        return n;
    }

    private static byte[] bytes(JsonNode n) {
        return Json.toBytes(n);
    }

    /** One record of each kind of bad input, with the reason it must get. */
    private static Map<String, byte[]> badInputs() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("malformed_json", "{\"tenant_id\": \"acme\", ".getBytes(StandardCharsets.UTF_8));
        ObjectNode wrongType = valid("acme", "c-bad", "b1", "hello");
        wrongType.put("conversation_id", 42);
        m.put("wrong_type", bytes(wrongType));
        ObjectNode missing = valid("acme", "c-bad", "b2", "hello");
        missing.remove("sender");
        m.put("missing_field", bytes(missing));
        m.put("invalid_id", bytes(valid("acme", "", "b3", "hello")));
        m.put("invalid_id (over-long)", bytes(valid("acme", "c".repeat(200), "b4", "hello")));
        m.put(
                "message_too_large",
                bytes(valid("acme", "c-bad", "b5", "x".repeat(MAX_MESSAGE_BYTES + 1))));
        m.put(
                "invalid_utf8",
                new byte[] {'{', '"', 'm', '"', ':', '"', (byte) 0xFF, (byte) 0xFE, '"', '}'});
        m.put("control_characters", bytes(valid("acme", "c-bad", "b6", "hi\u0007there")));
        ObjectNode bot = valid("acme", "c-bad", "b7", "hello");
        bot.put("sender", "robot");
        m.put("unknown_sender", bytes(bot));
        ObjectNode future = valid("acme", "c-bad", "b8", "hello");
        future.put("timestamp", Instant.now().plus(Duration.ofDays(400)).toString());
        m.put("future_timestamp", bytes(future));
        m.put("null_value", null);
        return m;
    }

    /** A fuzz record: random bytes, or a valid event mutated in one of several ways. */
    private static byte[] fuzz(Random r, int i) {
        ObjectNode base =
                valid(
                        "fuzz-" + (i % 3),
                        "conv-" + (i % 40),
                        "f-" + i,
                        "fuzz message " + i + " please help");
        switch (r.nextInt(12)) {
            case 0:
                {
                    byte[] b = new byte[r.nextInt(64)];
                    r.nextBytes(b);
                    return b;
                }
            case 1:
                {
                    byte[] b = bytes(base);
                    return java.util.Arrays.copyOf(b, r.nextInt(b.length));
                }
            case 2:
                {
                    byte[] b = bytes(base);
                    b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    return b;
                }
            case 3:
                {
                    String[] fields = {
                        "message_id",
                        "tenant_id",
                        "conversation_id",
                        "sender",
                        "message",
                        "timestamp"
                    };
                    base.remove(fields[r.nextInt(fields.length)]);
                    return bytes(base);
                }
            case 4:
                {
                    String[] fields = {
                        "tenant_id", "conversation_id", "sender", "message", "timestamp", "metadata"
                    };
                    base.put(fields[r.nextInt(fields.length)], r.nextInt());
                    return bytes(base);
                }
            case 5:
                base.putNull(
                        new String[] {"tenant_id", "message", "timestamp", "channel"}
                                [r.nextInt(4)]);
                return bytes(base);
            case 6:
                {
                    StringBuilder s = new StringBuilder();
                    for (int k = 0; k < 1 + r.nextInt(40); k++) {
                        s.appendCodePoint(r.nextInt(0x2FFF));
                    }
                    base.put("message", s.toString());
                    return bytes(base);
                }
            case 7:
                base.put("timestamp", r.nextBoolean() ? "not a time" : "2024-13-45T99:00:00Z");
                return bytes(base);
            case 8:
                return Json.toBytes(List.of(1, "two", base));
            case 9:
                base.put("sender", new String[] {"agent", "system", "Customer", ""}[r.nextInt(4)]);
                return bytes(base);
            default:
                return bytes(base); // valid
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void badInputGoesToTheDlqWithItsReasonAndNothingDisappears() throws Exception {
        Configuration conf = jobConf("bad-input-itcase");
        conf.set(JobOptions.MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        JobClient job =
                ConversationIntelligenceJob.kafka(conf, new Properties())
                        .executeAsync(env, "bad-input-itcase");
        Map<String, String> reasonBySource = new HashMap<>();
        Map<String, String> kindBySource = new HashMap<>();
        List<String> fuzzSources = new ArrayList<>();
        int fuzzCount = 3000;
        try {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                String topic = conf.get(JobOptions.TOPIC_INPUT);
                for (Map.Entry<String, byte[]> e : badInputs().entrySet()) {
                    RecordMetadata md =
                            producer.send(new ProducerRecord<>(topic, null, e.getValue())).get();
                    String src = md.partition() + ":" + md.offset();
                    reasonBySource.put(src, e.getKey().replaceAll(" \\(.*\\)", ""));
                    kindBySource.put(src, e.getKey());
                }
                // Tenant isolation: the same conversation id under two tenants.
                for (String[] m :
                        new String[][] {
                            {"tenant-a", "a1", "my card was charged twice"},
                            {"tenant-b", "b1", "hello from b"},
                            {"tenant-a", "a2", "still waiting"},
                            {"tenant-a", "a3", "please refund"},
                            {"tenant-b", "b2", "thanks b"}
                        }) {
                    producer.send(
                                    new ProducerRecord<>(
                                            topic, bytes(valid(m[0], "shared-conv", m[1], m[2]))))
                            .get();
                }
                Random r = new Random(20261124L);
                List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < fuzzCount; i++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, fuzz(r, i))));
                }
                for (var f : sent) {
                    RecordMetadata md = f.get();
                    fuzzSources.add(md.partition() + ":" + md.offset());
                }
            }

            int expectedTotal = reasonBySource.size() + 5 + fuzzCount;
            Map<String, List<JsonNode>> out =
                    KafkaOutputs.readCommitted(
                            broker.bootstrapServers(),
                            List.of(
                                    "support.dlq",
                                    "support.conversations.state",
                                    "support.ai.aggregated"),
                            got ->
                                    got.get("support.dlq").size()
                                                            + got.get("support.conversations.state")
                                                                    .size()
                                                    >= expectedTotal
                                            && got.get("support.ai.aggregated").size()
                                                    >= got.get("support.conversations.state")
                                                            .size(),
                            Duration.ofMinutes(3));

            Map<String, JsonNode> dlqBySource = new HashMap<>();
            for (JsonNode d : out.get("support.dlq")) {
                String src =
                        d.at("/source/partition").asInt() + ":" + d.at("/source/offset").asLong();
                assertThat(dlqBySource.put(src, d)).as("one dead letter per record").isNull();
                assertThat(d.get("error_message").asText()).isNotBlank();
            }
            Map<String, JsonNode> snapshotBySource = new HashMap<>();
            for (JsonNode s : out.get("support.conversations.state")) {
                String src =
                        s.at("/source/partition").asInt() + ":" + s.at("/source/offset").asLong();
                assertThat(snapshotBySource.put(src, s)).as("one snapshot per record").isNull();
            }
            Set<String> aggregated = new HashSet<>();
            for (JsonNode a : out.get("support.ai.aggregated")) {
                assertThat(aggregated.add(RealData.versionId(a)))
                        .as("one aggregated record per version")
                        .isTrue();
            }

            // Each bad input: in the DLQ with its precise reason.
            reasonBySource.forEach(
                    (src, reason) -> {
                        assertThat(dlqBySource).as(kindBySource.get(src)).containsKey(src);
                        assertThat(dlqBySource.get(src).get("error_type").asText())
                                .as(kindBySource.get(src))
                                .isEqualTo(reason);
                    });

            // Fuzz: every record ends in exactly one place, never nowhere.
            Map<String, Integer> fate = new TreeMap<>();
            for (String src : fuzzSources) {
                boolean dead = dlqBySource.containsKey(src);
                JsonNode snap = snapshotBySource.get(src);
                assertThat(dead ^ snap != null)
                        .as("record %s ends in exactly one place", src)
                        .isTrue();
                if (dead) {
                    fate.merge(
                            "dlq:" + dlqBySource.get(src).get("error_type").asText(),
                            1,
                            Integer::sum);
                } else {
                    assertThat(aggregated).contains(RealData.versionId(snap));
                    fate.merge("processed", 1, Integer::sum);
                }
            }
            System.out.printf(
                    "bad input: %d kinds all dead-lettered with their reason; fuzz %d records:"
                            + " %s%n",
                    reasonBySource.size(), fuzzCount, fate);
            assertThat(fate.get("processed")).isGreaterThan(fuzzCount / 10);
            assertThat(fate.keySet().stream().filter(k -> k.startsWith("dlq:")).count())
                    .isGreaterThan(4);

            // Tenant isolation: same conversation id, separate state and output.
            Map<String, List<JsonNode>> shared = new TreeMap<>();
            for (JsonNode s : out.get("support.conversations.state")) {
                if (s.get("conversation_id").asText().equals("shared-conv")) {
                    shared.computeIfAbsent(s.get("tenant_id").asText(), k -> new ArrayList<>())
                            .add(s);
                }
            }
            assertThat(shared.get("tenant-a"))
                    .extracting(s -> s.get("version").asLong())
                    .containsExactlyInAnyOrder(1L, 2L, 3L);
            assertThat(shared.get("tenant-b"))
                    .extracting(s -> s.get("version").asLong())
                    .containsExactlyInAnyOrder(1L, 2L);
            for (JsonNode s : shared.get("tenant-b")) {
                s.get("recent_messages")
                        .forEach(m -> assertThat(m.get("message_id").asText()).startsWith("b"));
            }
            for (JsonNode s : shared.get("tenant-a")) {
                s.get("recent_messages")
                        .forEach(m -> assertThat(m.get("message_id").asText()).startsWith("a"));
            }
            assertThat(aggregated)
                    .contains("tenant-a:shared-conv#3", "tenant-b:shared-conv#2")
                    .doesNotContain("tenant-b:shared-conv#3");
            assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
        } finally {
            cancel(job);
        }
    }
}

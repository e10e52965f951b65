package io.signalstream.llm;

import io.signalstream.agents.ProviderStats;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The durable LLM response log against the real in-process broker and a real OpenAI-compatible
 * server on 127.0.0.1: answers appended by one provider runtime are served by the next one (a new
 * TaskManager, a restore) from its warmed cache without a single HTTP request; answers older than
 * the cache TTL, tombstones and malformed records are not loaded; a missing topic costs nothing but
 * a warning.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ResponseLogITCase {

    @TempDir static Path tmp;

    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    /** A provider {@code name} on the loopback server, its response log on {@code topic}. */
    private static Configuration conf(String name, String baseUrl, String topic) {
        Configuration c = new Configuration();
        c.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        c.set(ProviderOptions.baseUrl(name), baseUrl);
        c.set(ProviderOptions.model(name), "loopback");
        c.set(ProviderOptions.apiKeyEnv(name), "SIGNALSTREAM_TEST_UNSET_API_KEY_VARIABLE");
        c.set(ProviderOptions.responseLogTopic(name), topic);
        c.set(ProviderOptions.responseLogWarmupTimeout(name), Duration.ofSeconds(30));
        c.set(AgentOptions.TIMEOUT, Duration.ofSeconds(20));
        c.set(AgentOptions.ENABLED, List.of("sentiment"));
        c.set(AgentOptions.provider("sentiment"), name);
        return c;
    }

    private static ConversationSnapshot snapshot(int n) {
        TranscriptEntry e =
                new TranscriptEntry(
                        "m" + n,
                        "customer",
                        "my parcel number " + n + " never arrived, please help",
                        Instant.parse("2024-05-01T10:00:00Z"));
        return new ConversationSnapshot(
                "acme",
                "c" + n,
                1,
                1,
                e,
                List.of(e),
                e.timestamp(),
                e.timestamp(),
                List.of("sentiment"),
                new SourceRef("support.messages.raw", 0, n));
    }

    private static void awaitAppends(ProviderStats stats, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stats.responseLogAppends.get() + stats.responseLogAppendFailures.get() < n
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void aNewRuntimeServesLoggedAnswersWithoutAnyRequest() throws Exception {
        String name = "openai-log1";
        String topic = "test.llm-responses-1";
        int n = 40;
        try (LoopbackLlmServer llm = LoopbackLlmServer.start()) {
            Configuration conf = conf(name, llm.baseUrl(), topic);
            // The topic as the job creates it: compacted, deleted after the cache TTL.
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 3, (short) 1));
            assertThat(topicConfig(topic))
                    .containsEntry("cleanup.policy", "compact,delete")
                    .containsEntry("retention.ms", String.valueOf(Duration.ofHours(1).toMillis()));
            ProviderStats stats = ProviderStats.of(name);
            stats.reset();

            List<AgentResult> first = new ArrayList<>();
            try (OpenAiProvider p = new OpenAiProvider(ProviderSettings.from(conf, name))) {
                for (int i = 0; i < n; i++) {
                    first.add(p.analyze("sentiment", snapshot(i)).get(20, TimeUnit.SECONDS));
                }
                awaitAppends(stats, n);
            }
            assertThat(first).allMatch(r -> AgentStatus.OK.equals(r.status()));
            assertThat(llm.requestCount()).isEqualTo(n);
            assertThat(stats.responseLogAppends.get()).isEqualTo(n);
            assertThat(stats.responseLogAppendFailures.get()).isZero();

            // A new runtime in a "new TaskManager": the heap cache is gone, the log is not.
            llm.clearRequests();
            stats.reset();
            List<AgentResult> second = new ArrayList<>();
            try (OpenAiProvider p = new OpenAiProvider(ProviderSettings.from(conf, name))) {
                assertThat(stats.warmupRecords.get()).isEqualTo(n);
                for (int i = 0; i < n; i++) {
                    second.add(p.analyze("sentiment", snapshot(i)).get(20, TimeUnit.SECONDS));
                }
            }
            assertThat(llm.requestCount()).as("HTTP requests after the warm-up").isZero();
            assertThat(stats.cacheHits.get()).isEqualTo(n);
            assertThat(stats.cacheMisses.get()).isZero();
            for (int i = 0; i < n; i++) {
                assertThat(second.get(i).status()).isEqualTo(AgentStatus.OK);
                assertThat(second.get(i).promptHash()).isEqualTo(first.get(i).promptHash());
                assertThat(second.get(i).result()).isEqualTo(first.get(i).result());
                assertThat(second.get(i).attempts()).isZero();
            }
            System.out.printf(
                    "response log: %d answers logged, warm-up loaded %d in %d ms, %d requests"
                            + " after it%n",
                    n, stats.warmupRecords.get(), stats.warmupMs.get(), llm.requestCount());
        }
    }

    @Test
    void expiredTombstonedAndMalformedRecordsAreNotLoaded() throws Exception {
        String name = "openai-log2";
        String topic = "test.llm-responses-2";
        Configuration conf = conf(name, "http://127.0.0.1:9/v1", topic);
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                KafkaTopics.layout(conf, 2, (short) 1));
        Duration ttl = Duration.ofHours(1);
        long now = System.currentTimeMillis();
        ObjectNode answer = Json.MAPPER.createObjectNode().put("label", "negative");
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            send(producer, topic, "fresh", now - 1_000, value("fresh", answer));
            send(producer, topic, "old", now - ttl.toMillis() - 60_000, value("old", answer));
            send(
                    producer,
                    topic,
                    "almost-old",
                    now - ttl.minusMinutes(1).toMillis(),
                    value("almost-old", answer));
            send(producer, topic, "tombstone", now, null);
            send(producer, topic, "not-json", now, "{not json".getBytes(StandardCharsets.UTF_8));
            send(
                    producer,
                    topic,
                    "no-answer",
                    now,
                    "{\"request_hash\":\"no-answer\"}".getBytes(StandardCharsets.UTF_8));
            send(producer, topic, "other-key", now, value("some-other-hash", answer));
            // (A compacted topic refuses records without a key: nothing to test there.)
            // A newer answer of the same hash wins, as compaction would keep it.
            ObjectNode newer = Json.MAPPER.createObjectNode().put("label", "positive");
            send(producer, topic, "fresh", now - 500, value("fresh", newer));
            producer.flush();
        }
        ProviderStats stats = ProviderStats.of(name);
        stats.reset();
        ResponseCache cache = new ResponseCache(100, ttl, null);
        ResponseLog.WarmUp w =
                ResponseLog.warmUp(
                        ProviderSettings.from(conf, name).responseLog(),
                        name,
                        ttl,
                        cache,
                        stats,
                        Clock.systemUTC());

        assertThat(w.complete()).isTrue();
        assertThat(w.topicFound()).isTrue();
        assertThat(w.loaded()).isEqualTo(3); // fresh twice, almost-old
        assertThat(w.expired()).isEqualTo(1);
        assertThat(w.skipped()).isEqualTo(4);
        assertThat(stats.warmupRecords.get()).isEqualTo(3);
        assertThat(stats.warmupSkipped.get()).isEqualTo(4);
        assertThat(cache.getIfPresent("fresh")).isEqualTo(newerAnswer());
        assertThat(cache.getIfPresent("almost-old")).isEqualTo(answer);
        for (String absent : List.of("old", "tombstone", "not-json", "no-answer", "other-key")) {
            assertThat(cache.getIfPresent(absent)).as(absent).isNull();
        }
        // What is left of its TTL, not a whole new TTL.
        assertThat(cache.expiresAfter("almost-old").orElseThrow())
                .isLessThanOrEqualTo(Duration.ofMinutes(1));
        assertThat(cache.expiresAfter("fresh").orElseThrow()).isGreaterThan(Duration.ofMinutes(50));
    }

    @Test
    void aWarmUpThatRunsOutOfTimeReturnsWhatItRead() throws Exception {
        String name = "openai-log4";
        String topic = "test.llm-responses-4";
        Configuration conf = conf(name, "http://127.0.0.1:9/v1", topic);
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                KafkaTopics.layout(conf, 1, (short) 1));
        ObjectNode answer = Json.MAPPER.createObjectNode().put("label", "neutral");
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (int i = 0; i < 50; i++) {
                send(producer, topic, "k" + i, System.currentTimeMillis(), value("k" + i, answer));
            }
        }
        conf.set(ProviderOptions.responseLogWarmupTimeout(name), Duration.ofMillis(1));
        ResponseCache cache = new ResponseCache(100, Duration.ofHours(1), null);
        ResponseLog.WarmUp w =
                ResponseLog.warmUp(
                        ProviderSettings.from(conf, name).responseLog(),
                        name,
                        Duration.ofHours(1),
                        cache,
                        ProviderStats.of(name),
                        Clock.systemUTC());
        assertThat(w.complete()).isFalse();
        assertThat(w.loaded()).isLessThan(50).isEqualTo(cache.size());
    }

    @Test
    void appendsThatKafkaDoesNotTakeAreCountedNotThrown() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String name = "openai-log5";
        ProviderStats stats = ProviderStats.of(name);
        stats.reset();
        ResponseLogSettings settings =
                new ResponseLogSettings(
                        true,
                        "test.llm-responses-5",
                        "127.0.0.1:" + closedPort,
                        Duration.ofSeconds(1),
                        Map.of());
        try (ResponseLog log =
                new ResponseLog(settings, name, "loopback", stats, Clock.systemUTC())) {
            log.append("h1", Json.MAPPER.createObjectNode().put("label", "neutral"), "v1", null);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (stats.responseLogAppendFailures.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }
        assertThat(stats.responseLogAppendFailures.get()).isEqualTo(1);
        assertThat(stats.responseLogAppends.get()).isZero();
    }

    @Test
    void aMissingTopicOnlyCostsAWarning() throws Exception {
        String name = "openai-log3";
        try (LoopbackLlmServer llm = LoopbackLlmServer.start()) {
            Configuration conf = conf(name, llm.baseUrl(), "test.llm-responses-missing");
            ProviderStats stats = ProviderStats.of(name);
            stats.reset();
            try (OpenAiProvider p = new OpenAiProvider(ProviderSettings.from(conf, name))) {
                AgentResult r = p.analyze("sentiment", snapshot(1)).get(20, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(AgentStatus.OK);
                // Served from the heap cache the second time, as without a log.
                AgentResult again = p.analyze("sentiment", snapshot(1)).get(20, TimeUnit.SECONDS);
                assertThat(again.attempts()).isZero();
            }
            assertThat(llm.requestCount()).isEqualTo(1);
            assertThat(stats.warmupRecords.get()).isZero();
            assertThat(stats.responseLogAppends.get()).isZero();
            assertThat(stats.responseLogAppendFailures.get()).isZero();
        }
    }

    @Test
    void offWithoutKafkaOrCache() {
        Configuration noKafka = new Configuration();
        assertThat(ResponseLogSettings.from(noKafka, "openai", 10_000).enabled()).isFalse();
        Configuration c = new Configuration();
        c.set(JobOptions.BOOTSTRAP_SERVERS, "127.0.0.1:1");
        c.setString(JobOptions.KAFKA_PROPERTIES_PREFIX + "security.protocol", "SASL_SSL");
        ResponseLogSettings on = ResponseLogSettings.from(c, "openai", 10_000);
        assertThat(on.enabled()).isTrue();
        assertThat(on.topic()).isEqualTo("support.llm-responses");
        assertThat(on.kafkaProperties()).containsEntry("security.protocol", "SASL_SSL");
        assertThat(on.toString()).doesNotContain("SASL_SSL");
        assertThat(ResponseLogSettings.from(c, "openai", 0).enabled()).isFalse();
        c.set(ProviderOptions.responseLogEnabled("openai"), false);
        assertThat(ResponseLogSettings.from(c, "openai", 10_000).enabled()).isFalse();
        // Equal configurations share one runtime.
        c.set(ProviderOptions.responseLogEnabled("openai"), true);
        assertThat(ProviderSettings.from(c, "openai"))
                .isEqualTo(ProviderSettings.from(new Configuration(c), "openai"));
    }

    private static JsonNode newerAnswer() {
        return Json.MAPPER.createObjectNode().put("label", "positive");
    }

    private static byte[] value(String hash, JsonNode answer) throws Exception {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("request_hash", hash);
        n.put("provider", "openai");
        n.put("model", "loopback");
        n.put("prompt_version", "v1");
        n.set("answer", answer);
        n.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", 5);
        n.put("created_at", Instant.now().toString());
        return Json.MAPPER.writeValueAsBytes(n);
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static void send(
            KafkaProducer<byte[], byte[]> producer,
            String topic,
            String key,
            long timestamp,
            byte[] value)
            throws Exception {
        producer.send(
                        new ProducerRecord<>(
                                topic,
                                0,
                                timestamp,
                                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                                value))
                .get(30, TimeUnit.SECONDS);
    }

    private static Map<String, String> topicConfig(String topic) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config c = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
            Map<String, String> out = new java.util.TreeMap<>();
            c.entries().forEach(e -> out.put(e.name(), e.value()));
            return out;
        }
    }
}

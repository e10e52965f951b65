package io.signalstream.sql;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.sql.QueryResult;
import io.signalstream.jobs.sql.SqlRunner;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.local.sql.DemoDataLoader;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Every query file of {@code sql/queries} against the in-process broker, filled once by the whole
 * job with the real conversations, an extra conversation that asks for escalation and never gets a
 * reply, and malformed records; the summary agent runs on the LLM path against the loopback server
 * with injected faults, so fallbacks, tokens and latencies are real.
 *
 * <p>Each expected result is worked out here in plain Java from the records a {@code
 * read_committed} consumer reads from the topics (values and Kafka timestamps), not from the SQL.
 */
class SqlQueriesITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(4)
                            .build());

    private static final Path SQL_DIR = Path.of("..", "..", "sql");
    private static final List<String> AGENTS = List.of("pii", "sentiment", "insights", "summary");
    private static final int REPLY_MINUTES = 10;

    @TempDir static Path tmp;

    private static EmbeddedKafkaBroker broker;
    private static LoopbackLlmServer llm;
    private static SqlRunner runner;

    /** topic → records as a read_committed consumer reads them. */
    private static Map<String, List<Rec>> topics;

    /** The query files this test checks, one test method each. */
    private static final Set<String> CHECKED_FILES =
            new TreeSet<>(
                    List.of(
                            "01_negative_sentiment_per_tenant.sql",
                            "02_escalations_requested_vs_handled.sql",
                            "03_pii_incidents_by_type_and_tenant.sql",
                            "04_agent_status_rates.sql",
                            "05_agent_latency_percentiles.sql",
                            "06_urgent_without_agent_reply.sql",
                            "07_tokens_per_tenant.sql",
                            "08_dead_letters_by_reason.sql",
                            "09_escalations_never_handled.sql",
                            "10_pii_in_customer_messages.sql",
                            "11_agent_accuracy_by_prompt_version.sql",
                            "12_alerts_per_tenant_and_type.sql",
                            "13_answers_per_agent.sql"));

    /** One Kafka record: its JSON value (null if not JSON) and its timestamp. */
    private record Rec(JsonNode value, Instant ts) {}

    @BeforeAll
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    static void fillTopicsThroughTheJob() throws Exception {
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
        llm =
                LoopbackLlmServer.start(
                        LoopbackLlmServer.faulty(LoopbackLlmServer.schemaAnswers(), 0.5, 11, 0));

        Configuration conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(JobOptions.GROUP_ID, "sql-itcase");
        conf.set(AgentOptions.provider("summary"), "openai");
        conf.set(ProviderOptions.baseUrl("openai"), llm.baseUrl());
        conf.set(ProviderOptions.model("openai"), "loopback");
        conf.set(ProviderOptions.retryMaxAttempts("openai"), 2);
        conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(20));
        conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(40));

        List<Map.Entry<String, byte[]>> events =
                new ArrayList<>(
                        ConversationReplayer.toEvents(ConversationReplayer.readLines(null)));
        events.addAll(
                ConversationReplayer.toEvents(
                        List.of(
                                line(
                                        "esc-1",
                                        "I was scammed, my account got hacked and my card was"
                                                + " stolen",
                                        "2021-05-04T10:00:00Z",
                                        0),
                                line(
                                        "esc-2",
                                        "Still nothing? I am calling my lawyer and will sue you",
                                        "2021-05-04T10:30:00Z",
                                        1))));
        for (String bad :
                List.of(
                        "this is not json",
                        "[1, 2, 3]",
                        "{\"tenant_id\":\"acme\",\"sender\":\"customer\",\"message\":\"hi\"}",
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"bot\",\"message\":\"hi\"}",
                        "{\"tenant_id\":\"acme\",\"conversation_id\":\"c1\",\"sender\":\"bot\",\"message\":\"hey\"}",
                        "{\"tenant_id\":\"beta\",\"conversation_id\":\"c2\",\"sender\":\"customer\",\"message\":\""
                            + "  \"}")) {
            events.add(Map.entry("", bad.getBytes(StandardCharsets.UTF_8)));
        }
        DemoDataLoader.load(
                conf, new Properties(), events, feedback(), Duration.ofMinutes(3), System.out);

        topics = readAll(broker.bootstrapServers());
        runner =
                new SqlRunner(
                        true,
                        broker.bootstrapServers(),
                        Map.of("reply.minutes", String.valueOf(REPLY_MINUTES)),
                        new Configuration());
        runner.run(Files.readString(SQL_DIR.resolve("tables.sql")));
        runner.run(Files.readString(SQL_DIR.resolve("functions.sql")));
    }

    /**
     * Corrections of the first customer message of 30 real conversations: the sentiment label
     * (cycling negative, neutral, positive) by two reviewers, whether 10 of them hold PII, and one
     * for an unknown agent (a dead letter).
     */
    private static List<Map.Entry<String, byte[]>> feedback() throws IOException {
        Map<String, JsonNode> firstCustomer = new java.util.LinkedHashMap<>();
        Map<String, Integer> versions = new HashMap<>();
        for (String line : ConversationReplayer.readLines(null)) {
            JsonNode n = Json.MAPPER.readTree(line);
            String key = convKey(n);
            int v = versions.merge(key, 1, Integer::sum);
            if ("customer".equals(n.get("sender").asText()) && firstCustomer.size() < 30) {
                firstCustomer.putIfAbsent(
                        key,
                        ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("version", v));
            }
        }
        String[] labels = {"negative", "neutral", "positive"};
        List<Map.Entry<String, byte[]>> out = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, JsonNode> e : firstCustomer.entrySet()) {
            JsonNode n = e.getValue();
            var f = Json.MAPPER.createObjectNode();
            f.put("feedback_id", "sql-fb-" + i);
            f.put("tenant_id", n.get("tenant_id").asText());
            f.put("conversation_id", n.get("conversation_id").asText());
            f.put("version", n.get("version").asLong());
            f.put("agent", i < 20 ? "sentiment" : "pii");
            f.put("field", i < 20 ? "label" : "has_pii");
            if (i < 20) {
                f.put("expected", labels[i % 3]);
            } else {
                f.put("expected", false);
            }
            f.put("user_id", "reviewer-" + (i % 2));
            f.put(
                    "timestamp",
                    Instant.parse("2024-05-01T10:00:00Z").plusSeconds(60L * i).toString());
            out.add(Map.entry(e.getKey(), Json.toBytes(f)));
            if (i == 0) {
                f.put("feedback_id", "sql-fb-unknown-agent");
                f.put("agent", "horoscope");
                out.add(Map.entry(e.getKey(), Json.toBytes(f)));
            }
            i++;
        }
        return out;
    }

    private static String line(String id, String message, String ts, int turn) {
        return String.format(
                "{\"conversation_id\":\"sqlEscalation01\",\"tenant_id\":\"AcmeSupport\",\"sender\":\"customer\","
                    + "\"message\":\"%s\",\"timestamp\":\"%s\",\"turn_index\":%d,\"source_msg_id\":\"%s\"}",
                message, ts, turn, id);
    }

    @AfterAll
    static void stop() {
        if (llm != null) {
            llm.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void everyQueryFileHasACheck() throws IOException {
        try (Stream<Path> files = Files.list(SQL_DIR.resolve("queries"))) {
            Set<String> all =
                    files.map(p -> p.getFileName().toString())
                            .filter(n -> n.endsWith(".sql"))
                            .collect(Collectors.toCollection(TreeSet::new));
            assertThat(all).as("query files in sql/queries").isEqualTo(CHECKED_FILES);
        }
    }

    // ---------------------------------------------------------------------------------------

    @Test
    void negativeSentimentPerTenantInTumblingWindows() throws Exception {
        record Key(LocalDateTime start, String tenant) {}
        Map<Key, double[]> acc =
                new TreeMap<>(Comparator.comparing(Key::start).thenComparing(Key::tenant));
        for (Rec r : topic("support.ai.sentiment")) {
            JsonNode label = r.value().at("/result/label");
            if (label.isMissingNode() || label.isNull()) {
                continue;
            }
            long startMs = Math.floorDiv(r.ts().toEpochMilli(), 60_000L) * 60_000L;
            Key k =
                    new Key(
                            LocalDateTime.ofEpochSecond(startMs / 1000, 0, ZoneOffset.UTC),
                            r.value().get("tenant_id").asText());
            double[] a = acc.computeIfAbsent(k, x -> new double[3]);
            a[0]++;
            a[1] += "negative".equals(label.asText()) ? 1 : 0;
            a[2] += r.value().at("/result/score").asDouble();
        }
        List<Object[]> expected = new ArrayList<>();
        acc.forEach(
                (k, a) -> {
                    if (a[1] > 0) {
                        expected.add(
                                new Object[] {
                                    k.start(),
                                    k.start().plusMinutes(1),
                                    k.tenant(),
                                    (long) a[0],
                                    (long) a[1],
                                    a[2] / a[0]
                                });
                    }
                });
        expected.sort(
                Comparator.<Object[], LocalDateTime>comparing(e -> (LocalDateTime) e[0])
                        .thenComparing(e -> -(Long) e[4])
                        .thenComparing(e -> (String) e[2]));
        assertThat(expected).isNotEmpty();

        QueryResult result = query("01_negative_sentiment_per_tenant.sql");
        assertThat(result.columns())
                .containsExactly(
                        "window_start",
                        "window_end",
                        "tenant_id",
                        "labelled",
                        "negative",
                        "avg_score");
        assertThat(result.rows()).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            Row row = result.rows().get(i);
            Object[] e = expected.get(i);
            assertThat(
                            new Object[] {
                                row.getField(0),
                                row.getField(1),
                                row.getField(2),
                                row.getField(3),
                                row.getField(4)
                            })
                    .as("row %d", i)
                    .containsExactly(e[0], e[1], e[2], e[3], e[4]);
            assertThat(((Number) row.getField(5)).doubleValue())
                    .isCloseTo((Double) e[5], within(0.0006));
        }
    }

    @Test
    void escalationsRequestedVersusHandled() throws Exception {
        Map<String, long[]> perTenant = new TreeMap<>();
        escalations()
                .forEach(
                        (conv, handled) -> {
                            long[] c =
                                    perTenant.computeIfAbsent(conv.split(":")[0], t -> new long[3]);
                            c[0]++;
                            c[handled ? 1 : 2]++;
                        });
        List<List<Object>> expected = new ArrayList<>();
        perTenant.forEach((t, c) -> expected.add(List.of(t, c[0], c[1], c[2])));
        expected.sort(
                Comparator.<List<Object>, Long>comparing(e -> -(Long) e.get(1))
                        .thenComparing(e -> (String) e.get(0)));
        assertThat(perTenant.get("AcmeSupport"))
                .as("the conversation without a reply")
                .containsExactly(1, 0, 1);

        QueryResult result = query("02_escalations_requested_vs_handled.sql");
        assertThat(result.columns())
                .containsExactly("tenant_id", "requested", "handled", "never_handled");
        assertThat(values(result)).isEqualTo(expected);
    }

    @Test
    void escalationsNeverHandled() throws Exception {
        Map<String, JsonNode> latest = new HashMap<>();
        for (Rec r : topic("support.ai.aggregated")) {
            String key = convKey(r.value());
            JsonNode prev = latest.get(key);
            if (prev == null || prev.get("version").asLong() < r.value().get("version").asLong()) {
                latest.put(key, r.value());
            }
        }
        Map<String, Long> firstRequested = firstEscalationVersions();
        List<List<Object>> expected = new ArrayList<>();
        new TreeMap<>(escalations())
                .forEach(
                        (conv, handled) -> {
                            if (!handled) {
                                JsonNode l = latest.get(conv);
                                expected.add(
                                        List.of(
                                                conv.split(":")[0],
                                                conv.split(":")[1],
                                                firstRequested.get(conv),
                                                l.get("version").asLong(),
                                                l.at("/insights/intent").asText(),
                                                l.at("/insights/urgency").asText(),
                                                l.at("/summary/resolution_status").asText()));
                            }
                        });
        assertThat(expected).extracting(e -> e.get(1)).contains("sqlEscalation01");

        QueryResult result = query("09_escalations_never_handled.sql");
        assertThat(result.columns())
                .containsExactly(
                        "tenant_id",
                        "conversation_id",
                        "requested_at_version",
                        "latest_version",
                        "intent",
                        "urgency",
                        "resolution_status");
        assertThat(values(result)).isEqualTo(expected);
    }

    @Test
    void piiIncidentsByTypeAndTenant() throws Exception {
        record Key(String tenant, String type) {}
        Map<Key, List<Set<String>>> acc = new HashMap<>();
        Map<Key, Long> entities = new HashMap<>();
        for (Rec r : topic("support.ai.pii")) {
            for (JsonNode e : r.value().at("/result/entities")) {
                Key k = new Key(r.value().get("tenant_id").asText(), e.get("type").asText());
                entities.merge(k, 1L, Long::sum);
                List<Set<String>> sets =
                        acc.computeIfAbsent(k, x -> List.of(new HashSet<>(), new HashSet<>()));
                sets.get(0).add(r.value().get("message_id").asText());
                sets.get(1).add(r.value().get("conversation_id").asText());
            }
        }
        List<List<Object>> expected = new ArrayList<>();
        entities.forEach(
                (k, n) ->
                        expected.add(
                                List.of(
                                        k.tenant(),
                                        k.type(),
                                        n,
                                        (long) acc.get(k).get(0).size(),
                                        (long) acc.get(k).get(1).size())));
        expected.sort(
                Comparator.<List<Object>, Long>comparing(e -> -(Long) e.get(2))
                        .thenComparing(e -> (String) e.get(0))
                        .thenComparing(e -> (String) e.get(1)));
        assertThat(expected).isNotEmpty();

        QueryResult result = query("03_pii_incidents_by_type_and_tenant.sql");
        assertThat(result.columns())
                .containsExactly("tenant_id", "pii_type", "entities", "messages", "conversations");
        assertThat(values(result)).isEqualTo(expected);
    }

    @Test
    void agentStatusRates() throws Exception {
        Map<String, long[]> counts =
                new TreeMap<>(); // calls, ok, fallback, failed, timeout, attempts
        for (String agent : AGENTS) {
            for (Rec r : topic("support.ai." + agent)) {
                long[] c = counts.computeIfAbsent(agent, a -> new long[6]);
                c[0]++;
                switch (r.value().get("status").asText()) {
                    case "ok" -> c[1]++;
                    case "fallback" -> c[2]++;
                    case "failed" -> c[3]++;
                    case "timeout" -> c[4]++;
                    default -> {}
                }
                c[5] += r.value().get("attempts").asLong();
            }
        }
        assertThat(counts.get("summary")[2]).as("fallbacks of the faulty LLM path").isPositive();

        QueryResult result = query("04_agent_status_rates.sql");
        assertThat(result.columns())
                .containsExactly(
                        "agent",
                        "calls",
                        "ok",
                        "fallback",
                        "failed",
                        "timed_out",
                        "fallback_pct",
                        "failed_pct",
                        "timeout_pct",
                        "avg_attempts");
        assertThat(result.rows())
                .extracting(r -> r.getField(0))
                .containsExactlyElementsOf(counts.keySet());
        for (Row row : result.rows()) {
            long[] c = counts.get((String) row.getField(0));
            assertThat(
                            List.of(
                                    row.getField(1),
                                    row.getField(2),
                                    row.getField(3),
                                    row.getField(4),
                                    row.getField(5)))
                    .containsExactly(c[0], c[1], c[2], c[3], c[4]);
            assertThat(num(row, 6)).isCloseTo(percent(c[2], c[0]), within(1e-9));
            assertThat(num(row, 7)).isCloseTo(percent(c[3], c[0]), within(1e-9));
            assertThat(num(row, 8)).isCloseTo(percent(c[4], c[0]), within(1e-9));
            assertThat(num(row, 9)).isCloseTo((double) c[5] / c[0], within(0.0051));
        }
    }

    @Test
    void answersPerAgentFromTheAgentsMap() throws Exception {
        // Expected from the topic: per (tenant, agent), records whose agents map holds the agent.
        Map<String, long[]> records = new TreeMap<>();
        Map<String, Set<String>> conversations = new TreeMap<>();
        for (Rec r : topic("support.ai.aggregated")) {
            JsonNode v = r.value();
            v.get("agents")
                    .fieldNames()
                    .forEachRemaining(
                            agent -> {
                                String k = v.get("tenant_id").asText() + "/" + agent;
                                records.computeIfAbsent(k, x -> new long[1])[0]++;
                                conversations
                                        .computeIfAbsent(k, x -> new HashSet<>())
                                        .add(v.get("conversation_id").asText());
                            });
        }
        assertThat(records.keySet().stream().map(k -> k.substring(k.indexOf('/') + 1)))
                .as("the four built-in agents answer")
                .contains("pii", "sentiment", "insights", "summary");

        QueryResult result = query("13_answers_per_agent.sql");
        assertThat(result.columns())
                .containsExactly("tenant_id", "agent", "records", "conversations", "a_value");
        Map<String, long[]> got = new TreeMap<>();
        for (Row row : result.rows()) {
            String k = row.getField(0) + "/" + row.getField(1);
            got.put(k, new long[] {(Long) row.getField(2), (Long) row.getField(3)});
            assertThat(row.getField(4)).as("a field read from the answer's JSON").isNotNull();
        }
        assertThat(got.keySet()).isEqualTo(records.keySet());
        for (String k : records.keySet()) {
            assertThat(got.get(k)).containsExactly(records.get(k)[0], conversations.get(k).size());
        }
    }

    @Test
    void agentLatencyPercentiles() throws Exception {
        Map<String, List<Long>> latencies = new TreeMap<>();
        for (String agent : AGENTS) {
            for (Rec r : topic("support.ai." + agent)) {
                latencies
                        .computeIfAbsent(
                                agent + "/" + r.value().get("provider").asText(),
                                k -> new ArrayList<>())
                        .add(r.value().get("latency_ms").asLong());
            }
        }
        QueryResult result = query("05_agent_latency_percentiles.sql");
        assertThat(result.columns())
                .containsExactly(
                        "agent", "provider", "calls", "p50_ms", "p95_ms", "p99_ms", "max_ms");
        assertThat(result.rows())
                .extracting(r -> r.getField(0) + "/" + r.getField(1))
                .containsExactlyElementsOf(latencies.keySet());
        for (Row row : result.rows()) {
            List<Long> l = latencies.get(row.getField(0) + "/" + row.getField(1));
            l.sort(null);
            assertThat(row.getField(2)).isEqualTo((long) l.size());
            assertThat(num(row, 3)).isCloseTo(percentile(l, 0.5), within(0.051));
            assertThat(num(row, 4)).isCloseTo(percentile(l, 0.95), within(0.051));
            assertThat(num(row, 5)).isCloseTo(percentile(l, 0.99), within(0.051));
            assertThat(row.getField(6)).isEqualTo(l.get(l.size() - 1));
        }
    }

    @Test
    void urgentMessagesWithoutAgentReplyInTime() throws Exception {
        Map<String, JsonNode> insightsByMessage = new HashMap<>();
        for (Rec r : topic("support.ai.insights")) {
            insightsByMessage.put(
                    convKey(r.value()) + "/" + r.value().get("message_id").asText(), r.value());
        }
        record Msg(String conv, String id, String sender, Instant time) {}
        List<Msg> messages = new ArrayList<>();
        for (Rec r : topic("support.messages.raw")) {
            JsonNode v = r.value();
            if (v == null || !v.isObject() || !v.hasNonNull("message_id")) {
                continue;
            }
            Instant t =
                    v.hasNonNull("timestamp") ? Instant.parse(v.get("timestamp").asText()) : r.ts();
            messages.add(
                    new Msg(
                            convKey(v),
                            v.get("message_id").asText(),
                            v.path("sender").asText(),
                            t));
        }
        Map<String, List<Instant>> agentTimes = new HashMap<>();
        messages.stream()
                .filter(m -> m.sender().equals("agent"))
                .forEach(
                        m ->
                                agentTimes
                                        .computeIfAbsent(m.conv(), k -> new ArrayList<>())
                                        .add(m.time()));
        List<List<Object>> expected = new ArrayList<>();
        for (Msg m : messages) {
            JsonNode insights = insightsByMessage.get(m.conv() + "/" + m.id());
            if (!m.sender().equals("customer") || insights == null) {
                continue;
            }
            String urgency = insights.at("/result/urgency").asText();
            Instant limit = m.time().plus(REPLY_MINUTES, ChronoUnit.MINUTES);
            boolean replied =
                    agentTimes.getOrDefault(m.conv(), List.of()).stream()
                            .anyMatch(t -> !t.isBefore(m.time()) && !t.isAfter(limit));
            if (!replied && (urgency.equals("high") || urgency.equals("critical"))) {
                expected.add(
                        List.of(
                                m.conv().split(":")[0],
                                m.conv().split(":")[1],
                                m.id(),
                                m.time(),
                                urgency,
                                insights.at("/result/intent").asText()));
            }
        }
        expected.sort(
                Comparator.<List<Object>, String>comparing(e -> (String) e.get(0))
                        .thenComparing(e -> (String) e.get(1))
                        .thenComparing(e -> (Instant) e.get(3)));
        assertThat(expected).extracting(e -> e.get(2)).contains("esc-1", "esc-2");

        QueryResult result = query("06_urgent_without_agent_reply.sql");
        assertThat(result.columns())
                .containsExactly(
                        "tenant_id",
                        "conversation_id",
                        "message_id",
                        "asked_at",
                        "urgency",
                        "intent");
        assertThat(values(result)).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(values(result))
                .extracting(e -> e.subList(0, 2) + "@" + e.get(3))
                .containsExactlyElementsOf(
                        expected.stream().map(e -> e.subList(0, 2) + "@" + e.get(3)).toList());
    }

    @Test
    void tokensPerTenant() throws Exception {
        Map<String, long[]> perTenant =
                new TreeMap<>(); // llm calls, local calls, prompt, completion
        for (String agent : AGENTS) {
            for (Rec r : topic("support.ai." + agent)) {
                long[] c =
                        perTenant.computeIfAbsent(
                                r.value().get("tenant_id").asText(), t -> new long[4]);
                c["local".equals(r.value().get("provider").asText()) ? 1 : 0]++;
                c[2] += r.value().at("/usage/prompt_tokens").asLong();
                c[3] += r.value().at("/usage/completion_tokens").asLong();
            }
        }
        List<String> order = new ArrayList<>(perTenant.keySet());
        order.sort(
                Comparator.<String, Long>comparing(
                                t -> -(perTenant.get(t)[2] + perTenant.get(t)[3]))
                        .thenComparing(Comparator.naturalOrder()));
        assertThat(perTenant.values().stream().mapToLong(c -> c[2] + c[3]).sum())
                .as("tokens of the LLM path")
                .isPositive();

        QueryResult result = query("07_tokens_per_tenant.sql");
        assertThat(result.columns())
                .containsExactly(
                        "tenant_id",
                        "llm_calls",
                        "local_calls",
                        "prompt_tokens",
                        "completion_tokens",
                        "total_tokens",
                        "est_cost_usd");
        assertThat(result.rows()).extracting(r -> r.getField(0)).containsExactlyElementsOf(order);
        for (Row row : result.rows()) {
            long[] c = perTenant.get((String) row.getField(0));
            assertThat(
                            List.of(
                                    row.getField(1),
                                    row.getField(2),
                                    row.getField(3),
                                    row.getField(4),
                                    row.getField(5)))
                    .containsExactly(c[0], c[1], c[2], c[3], c[2] + c[3]);
            assertThat(num(row, 6))
                    .isCloseTo(c[2] / 1000.0 * 0.00015 + c[3] / 1000.0 * 0.0006, within(1e-6));
        }
    }

    @Test
    void deadLettersByReason() throws Exception {
        record Key(String stage, String type) {}
        Map<Key, List<Object>> acc = new HashMap<>();
        for (Rec r : topic("support.dlq")) {
            JsonNode v = r.value();
            Key k = new Key(v.get("stage").asText(), v.get("error_type").asText());
            Instant t = Instant.parse(v.get("timestamp").asText()).truncatedTo(ChronoUnit.MILLIS);
            List<Object> a =
                    acc.computeIfAbsent(
                            k, x -> new ArrayList<>(List.of(0L, new HashSet<String>(), t, t)));
            a.set(0, (Long) a.get(0) + 1);
            if (v.hasNonNull("tenant_id")) {
                @SuppressWarnings("unchecked")
                Set<String> tenants = (Set<String>) a.get(1);
                tenants.add(v.get("tenant_id").asText());
            }
            a.set(2, t.isBefore((Instant) a.get(2)) ? t : a.get(2));
            a.set(3, t.isAfter((Instant) a.get(3)) ? t : a.get(3));
        }
        List<List<Object>> expected = new ArrayList<>();
        acc.forEach(
                (k, a) ->
                        expected.add(
                                List.of(
                                        k.stage(),
                                        k.type(),
                                        a.get(0),
                                        (long) ((Set<?>) a.get(1)).size(),
                                        a.get(2),
                                        a.get(3))));
        expected.sort(
                Comparator.<List<Object>, Long>comparing(e -> -(Long) e.get(2))
                        .thenComparing(e -> (String) e.get(0))
                        .thenComparing(e -> (String) e.get(1)));
        assertThat(expected)
                .extracting(e -> e.get(1))
                .contains("malformed_json", "not_an_object", "unknown_sender");

        QueryResult result = query("08_dead_letters_by_reason.sql");
        assertThat(result.columns())
                .containsExactly(
                        "stage",
                        "error_type",
                        "dead_letters",
                        "tenants",
                        "first_seen",
                        "last_seen");
        assertThat(values(result)).isEqualTo(expected);
    }

    @Test
    void alertsPerTenantAndType() throws Exception {
        record Key(String tenant, String type) {}
        Map<Key, Object[]> acc = new HashMap<>();
        for (Rec r : topic("support.alerts")) {
            JsonNode v = r.value();
            Key k = new Key(v.get("tenant_id").asText(), v.get("type").asText());
            Instant t = Instant.parse(v.get("created_at").asText()).truncatedTo(ChronoUnit.MILLIS);
            Object[] a = acc.computeIfAbsent(k, x -> new Object[] {0L, new HashSet<>(), 0L, t, t});
            a[0] = (Long) a[0] + 1;
            @SuppressWarnings("unchecked")
            Set<String> conversations = (Set<String>) a[1];
            conversations.add(v.get("conversation_id").asText());
            a[2] = (Long) a[2] + ("critical".equals(v.get("severity").asText()) ? 1 : 0);
            a[3] = t.isBefore((Instant) a[3]) ? t : a[3];
            a[4] = t.isAfter((Instant) a[4]) ? t : a[4];
        }
        List<List<Object>> expected = new ArrayList<>();
        acc.forEach(
                (k, a) ->
                        expected.add(
                                List.of(
                                        k.tenant(),
                                        k.type(),
                                        a[0],
                                        (long) ((Set<?>) a[1]).size(),
                                        a[2],
                                        a[3],
                                        a[4])));
        expected.sort(
                Comparator.<List<Object>, String>comparing(e -> (String) e.get(0))
                        .thenComparing(e -> -(Long) e.get(2))
                        .thenComparing(e -> (String) e.get(1)));
        // the extra conversation asks for escalation and waits 30 min for a reply
        assertThat(expected)
                .extracting(e -> e.get(0) + "/" + e.get(1))
                .contains("AcmeSupport/escalation_requested", "AcmeSupport/reply_overdue");

        QueryResult result = query("12_alerts_per_tenant_and_type.sql");
        assertThat(result.columns())
                .containsExactly(
                        "tenant_id",
                        "type",
                        "alerts",
                        "conversations",
                        "critical",
                        "first_raised",
                        "last_raised");
        assertThat(values(result)).isEqualTo(expected);
    }

    @Test
    void piiInCustomerMessagesByTheSqlFunctionsMatchesThePiiAgent() throws Exception {
        Map<String, JsonNode> piiByMessage = new HashMap<>();
        for (Rec r : topic("support.ai.pii")) {
            piiByMessage.put(r.value().get("message_id").asText(), r.value());
        }
        List<List<Object>> expected = new ArrayList<>();
        for (Rec r : topic("support.messages.raw")) {
            JsonNode v = r.value();
            if (v == null || !v.isObject() || !"customer".equals(v.path("sender").asText())) {
                continue;
            }
            JsonNode pii = piiByMessage.get(v.path("message_id").asText());
            if (pii == null || !pii.at("/result/has_pii").asBoolean()) {
                continue;
            }
            Set<String> types = new LinkedHashSet<>();
            pii.at("/result/entities").forEach(e -> types.add(e.get("type").asText()));
            expected.add(
                    List.of(
                            v.get("tenant_id").asText(),
                            v.get("conversation_id").asText(),
                            v.get("message_id").asText(),
                            String.join(",", types),
                            pii.at("/result/redacted_text").asText()));
        }
        expected.sort(
                Comparator.<List<Object>, String>comparing(e -> (String) e.get(0))
                        .thenComparing(e -> (String) e.get(1))
                        .thenComparing(e -> (String) e.get(2)));
        assertThat(expected).isNotEmpty();

        QueryResult result = query("10_pii_in_customer_messages.sql");
        assertThat(result.columns())
                .containsExactly(
                        "tenant_id", "conversation_id", "message_id", "pii_types", "redacted");
        assertThat(values(result)).isEqualTo(expected);
    }

    @Test
    void agentAccuracyByPromptVersion() throws Exception {
        record Key(String agent, String provider, String model, String promptVersion) {}
        Map<Key, List<JsonNode>> groups =
                new TreeMap<>(
                        Comparator.comparing(Key::agent)
                                .thenComparing(Key::provider)
                                .thenComparing(Key::model)
                                .thenComparing(Key::promptVersion));
        for (Rec r : topic("support.learning-signals")) {
            JsonNode v = r.value();
            groups.computeIfAbsent(
                            new Key(
                                    v.get("agent").asText(),
                                    v.get("provider").asText(),
                                    v.get("model").asText(),
                                    v.get("prompt_version").asText()),
                            k -> new ArrayList<>())
                    .add(v);
        }
        assertThat(topic("support.learning-signals"))
                .as("one signal per valid correction")
                .hasSize(30);
        assertThat(groups.keySet()).extracting(Key::agent).contains("sentiment", "pii");

        QueryResult result = query("11_agent_accuracy_by_prompt_version.sql");
        assertThat(result.columns())
                .containsExactly(
                        "agent",
                        "provider",
                        "model",
                        "prompt_version",
                        "judged",
                        "agreed",
                        "accuracy_pct",
                        "reviewers",
                        "tenants",
                        "first_feedback",
                        "last_feedback");
        assertThat(result.rows()).hasSameSizeAs(groups.keySet());
        int i = 0;
        for (Map.Entry<Key, List<JsonNode>> e : groups.entrySet()) {
            Row row = result.rows().get(i++);
            List<JsonNode> signals = e.getValue();
            long agreed = signals.stream().filter(s -> s.get("agreed").asBoolean()).count();
            Set<String> reviewers = new HashSet<>();
            Set<String> tenants = new HashSet<>();
            Instant first = null;
            Instant last = null;
            for (JsonNode s : signals) {
                reviewers.add(s.get("user_id").asText());
                tenants.add(s.get("tenant_id").asText());
                Instant t = Instant.parse(s.get("timestamp").asText());
                first = first == null || t.isBefore(first) ? t : first;
                last = last == null || t.isAfter(last) ? t : last;
            }
            Key k = e.getKey();
            assertThat(
                            List.of(
                                    row.getField(0),
                                    row.getField(1),
                                    row.getField(2),
                                    row.getField(3),
                                    row.getField(4),
                                    row.getField(5),
                                    row.getField(7),
                                    row.getField(8),
                                    row.getField(9),
                                    row.getField(10)))
                    .containsExactly(
                            k.agent(),
                            k.provider(),
                            k.model(),
                            k.promptVersion(),
                            (long) signals.size(),
                            agreed,
                            (long) reviewers.size(),
                            (long) tenants.size(),
                            first,
                            last);
            assertThat(num(row, 6)).isCloseTo(percent(agreed, signals.size()), within(1e-9));
        }
    }

    // ---------------------------------------------------------------------------------------

    /** conversation key → whether an agent message followed its first escalation request. */
    private static Map<String, Boolean> escalations() {
        Map<String, Long> lastAgent = new HashMap<>();
        for (Rec r : topic("support.conversations.state")) {
            if ("agent".equals(r.value().at("/last_message/sender").asText())) {
                lastAgent.merge(convKey(r.value()), r.value().get("version").asLong(), Math::max);
            }
        }
        Map<String, Boolean> out = new HashMap<>();
        firstEscalationVersions()
                .forEach((conv, v) -> out.put(conv, lastAgent.getOrDefault(conv, 0L) > v));
        return out;
    }

    private static Map<String, Long> firstEscalationVersions() {
        Map<String, Long> first = new HashMap<>();
        for (Rec r : topic("support.ai.insights")) {
            if (r.value().at("/result/requires_escalation").asBoolean()) {
                first.merge(convKey(r.value()), r.value().get("version").asLong(), Math::min);
            }
        }
        return first;
    }

    /** Linear interpolation between the closest ranks, on sorted values. */
    private static double percentile(List<Long> sorted, double p) {
        double pos = p * (sorted.size() - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted.get(lo) + (pos - lo) * (sorted.get(hi) - sorted.get(lo));
    }

    private static double percent(long part, long total) {
        return BigDecimal.valueOf(100L * part)
                .divide(BigDecimal.valueOf(total), 2, RoundingMode.HALF_UP)
                .doubleValue();
    }

    private static double num(Row row, int i) {
        return ((Number) row.getField(i)).doubleValue();
    }

    private static String convKey(JsonNode v) {
        return v.get("tenant_id").asText() + ":" + v.get("conversation_id").asText();
    }

    private static List<Rec> topic(String name) {
        return topics.get(name);
    }

    private static QueryResult query(String file) throws Exception {
        assertThat(CHECKED_FILES).contains(file);
        List<QueryResult> results =
                runner.run(Files.readString(SQL_DIR.resolve("queries").resolve(file)));
        assertThat(results).as("results of %s", file).hasSize(1);
        return results.get(0);
    }

    private static List<List<Object>> values(QueryResult result) {
        List<List<Object>> out = new ArrayList<>();
        for (Row r : result.rows()) {
            List<Object> line = new ArrayList<>();
            for (int i = 0; i < r.getArity(); i++) {
                line.add(r.getField(i));
            }
            out.add(line);
        }
        return out;
    }

    /** Every record of the job's topics, read to the end as a read_committed consumer. */
    private static Map<String, List<Rec>> readAll(String bootstrap) throws IOException {
        List<String> names =
                new ArrayList<>(
                        List.of(
                                "support.messages.raw",
                                "support.conversations.state",
                                "support.ai.aggregated",
                                "support.alerts",
                                "support.dlq",
                                "support.learning-signals"));
        AGENTS.forEach(a -> names.add("support.ai." + a));
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, List<Rec>> out = new HashMap<>();
        names.forEach(n -> out.put(n, new ArrayList<>()));
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : names) {
                for (PartitionInfo pi : c.partitionsFor(t, Duration.ofSeconds(30))) {
                    parts.add(new TopicPartition(t, pi.partition()));
                }
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime())
                        .as("reading the topics to their end")
                        .isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.get(r.topic())
                            .add(new Rec(json(r.value()), Instant.ofEpochMilli(r.timestamp())));
                }
            }
        }
        return out;
    }

    private static JsonNode json(byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(value);
        } catch (IOException e) {
            return null;
        }
    }
}

package io.signalstream.jobs;

import io.signalstream.api.ApiOptions;
import io.signalstream.api.ApiServer;
import io.signalstream.api.JwtTokens;
import io.signalstream.config.JobOptions;
import io.signalstream.events.ChatMessage;
import io.signalstream.functions.FeedbackJoinFunction;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.ops.PrometheusMiniCluster;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.CommonTestUtils;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The feedback loop end to end, on the real conversations, the real broker and a MiniCluster with
 * the Prometheus reporter, on the local defaults (a checkpoint every 2 s, as in the demo): feedback
 * produced before its result, after it, for a wrong version, naming another tenant, an unknown
 * agent, a duplicate, and a malformed record; the message path fails once while signals are being
 * written. A read_committed consumer must see exactly one learning signal per matched feedback id
 * (its prediction equal to the agent result on {@code support.ai.<agent>}) and every other feedback
 * on the DLQ with its reason. Then a correction posted to {@code POST /v1/feedback} is timed until
 * it is a committed learning signal and until the accuracy metric counts it.
 */
class FeedbackITCase {

    static final int PROM_PORT = PrometheusMiniCluster.freePort();
    static final byte[] SECRET =
            "feedback-itcase-secret-of-32-bytes-or-more".getBytes(StandardCharsets.UTF_8);
    static final Duration TTL = Duration.ofSeconds(45);
    static final AtomicInteger MESSAGES_SEEN = new AtomicInteger();
    static final AtomicInteger FAILURES = new AtomicInteger();

    /** The message count (over all subtasks and attempts) at which the message path throws. */
    static final AtomicInteger FAIL_AT_MESSAGE = new AtomicInteger();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            PrometheusMiniCluster.withReporterOn(PROM_PORT);

    @TempDir static Path tmp;

    /** Throws once, at a chosen message, so the job restarts from its last checkpoint. */
    static final class FailOnce implements MapFunction<ChatMessage, ChatMessage> {
        private static final long serialVersionUID = 1L;

        @Override
        public ChatMessage map(ChatMessage m) {
            if (MESSAGES_SEEN.incrementAndGet() == FAIL_AT_MESSAGE.get()) {
                FAILURES.incrementAndGet();
                throw new RuntimeException("injected failure in the message path");
            }
            return m;
        }
    }

    /** A conversation of the real file: key parts and the senders of its versions 1..n. */
    record Conversation(String tenant, String id, List<String> senders) {
        long firstCustomerVersion() {
            return senders.indexOf("customer") + 1;
        }
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void feedbackBecomesExactlyOneSignalOrADeadLetter() throws Exception {
        // The first 40 conversations of the real file, each with a customer message.
        Map<String, Conversation> convs = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        for (String line : ConversationReplayer.readLines(null)) {
            JsonNode n = Json.MAPPER.readTree(line);
            String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
            if (convs.size() >= 40 && !convs.containsKey(key)) {
                continue;
            }
            convs.computeIfAbsent(
                            key,
                            k ->
                                    new Conversation(
                                            n.get("tenant_id").asText(),
                                            n.get("conversation_id").asText(),
                                            new ArrayList<>()))
                    .senders()
                    .add(n.get("sender").asText());
            lines.add(line);
        }
        List<Conversation> usable =
                convs.values().stream().filter(c -> c.senders().contains("customer")).toList();
        assertThat(usable).hasSizeGreaterThan(20);
        FAIL_AT_MESSAGE.set(lines.size() / 2);

        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"))) {
            Configuration conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
            conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            conf.set(JobOptions.GROUP_ID, "feedback-itcase");
            conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "feedback-itcase");
            conf.set(JobOptions.FEEDBACK_TTL, TTL);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
            conf.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofMillis(200));
            String bootstrap = broker.bootstrapServers();
            KafkaTopics.create(bootstrap, new Properties(), KafkaTopics.layout(conf, 2, (short) 1));
            String feedbackTopic = conf.get(JobOptions.TOPIC_FEEDBACK);

            // Expected outcome per feedback id: "signal" or the DLQ reason.
            Map<String, String> expected = new TreeMap<>();
            List<ObjectNode> before = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Conversation c = usable.get(i);
                before.add(
                        feedback(
                                "before-" + i,
                                c.tenant(),
                                c.id(),
                                c.firstCustomerVersion(),
                                "sentiment",
                                "label",
                                "negative"));
                expected.put("before-" + i, "signal");
            }
            Conversation c0 = usable.get(0);
            before.add(before.get(0).deepCopy()); // a duplicate: one signal
            before.add(
                    feedback(
                            "wrong-version", c0.tenant(), c0.id(), 999, "sentiment", "label", "x"));
            expected.put("wrong-version", "wrong_version");
            before.add(
                    feedback(
                            "wrong-tenant",
                            "Intruder",
                            c0.id(),
                            c0.firstCustomerVersion(),
                            "sentiment",
                            "label",
                            "negative"));
            expected.put("wrong-tenant", "unknown_conversation");
            before.add(
                    feedback("unknown-agent", c0.tenant(), c0.id(), 1, "horoscope", "sign", "leo"));
            expected.put("unknown-agent", "unknown_agent");

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(conf);
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .withMessageStage(
                                    m -> m.map(new FailOnce()).uid("test-fail-once").name("fail"))
                            .executeAsync(env, "feedback-itcase");
            HttpClient http = HttpClient.newHttpClient();
            try (ApiServer api =
                    ApiServer.start(ApiOptions.defaults(bootstrap, 0, JwtTokens.hs256(SECRET)))) {
                produce(bootstrap, feedbackTopic, before);
                produceRaw(bootstrap, feedbackTopic, "{not json");
                ConversationReplayer.produce(
                        bootstrap,
                        new Properties(),
                        conf.get(JobOptions.TOPIC_INPUT),
                        ConversationReplayer.toEvents(lines),
                        0,
                        n -> {});

                // After the results: pii of ten other conversations.
                Set<String> judged = new HashSet<>();
                for (int i = 10; i < 20; i++) {
                    Conversation c = usable.get(i);
                    judged.add(c.tenant() + ":" + c.id() + "#" + c.firstCustomerVersion() + "/pii");
                }
                KafkaOutputs.readCommitted(
                        bootstrap,
                        List.of("support.ai.pii"),
                        got ->
                                got.get("support.ai.pii").stream()
                                        .map(FeedbackITCase::resultKey)
                                        .toList()
                                        .containsAll(judged),
                        Duration.ofMinutes(2),
                        Duration.ZERO);
                List<ObjectNode> after = new ArrayList<>();
                for (int i = 10; i < 20; i++) {
                    Conversation c = usable.get(i);
                    ObjectNode f =
                            feedback(
                                    "after-" + i,
                                    c.tenant(),
                                    c.id(),
                                    c.firstCustomerVersion(),
                                    "pii",
                                    "has_pii",
                                    "x");
                    f.put("expected", false);
                    after.add(f);
                    expected.put("after-" + i, "signal");
                }
                produce(bootstrap, feedbackTopic, after);

                // Once those 20 signals are committed, a correction posted to the API (while the
                // results are fresh: they are kept for the TTL only).
                KafkaOutputs.readCommitted(
                        bootstrap,
                        List.of("support.learning-signals"),
                        got -> got.get("support.learning-signals").size() >= 20,
                        Duration.ofMinutes(2),
                        Duration.ZERO);
                expected.put("api-1", "signal");
                // A correction posted to the API: time to a committed signal, and to the metric.
                Conversation c = usable.get(20);
                double metricBefore = feedbackTotal(http);
                String body =
                        Json.toString(
                                feedback(
                                        "api-1",
                                        c.tenant(),
                                        c.id(),
                                        c.firstCustomerVersion(),
                                        "sentiment",
                                        "label",
                                        "negative"));
                String token = JwtTokens.hs256Token(SECRET, c.tenant(), Duration.ofHours(1));
                long t0 = System.nanoTime();
                HttpResponse<String> posted =
                        http.send(
                                HttpRequest.newBuilder(URI.create(api.url() + "/v1/feedback"))
                                        .header("Authorization", "Bearer " + token)
                                        .header("Content-Type", "application/json")
                                        .timeout(Duration.ofSeconds(20))
                                        .POST(HttpRequest.BodyPublishers.ofString(body))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
                assertThat(Json.MAPPER.readTree(posted.body()).get("feedback_id").asText())
                        .isEqualTo("api-1");
                long[] metricAt = {-1};
                Map<String, List<JsonNode>> apiOut =
                        KafkaOutputs.readCommitted(
                                bootstrap,
                                List.of("support.learning-signals", "support.dlq"),
                                got -> {
                                    if (metricAt[0] < 0 && feedbackTotal(http) > metricBefore) {
                                        metricAt[0] = System.nanoTime();
                                    }
                                    return got.get("support.learning-signals").stream()
                                                    .anyMatch(
                                                            s ->
                                                                    s.get("feedback_id")
                                                                            .asText()
                                                                            .equals("api-1"))
                                            || got.get("support.dlq").stream()
                                                    .anyMatch(d -> d.toString().contains("api-1"));
                                },
                                Duration.ofSeconds(60),
                                Duration.ZERO);
                long signalMs = (System.nanoTime() - t0) / 1_000_000;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (metricAt[0] < 0 && System.nanoTime() < deadline) {
                    if (feedbackTotal(http) > metricBefore) {
                        metricAt[0] = System.nanoTime();
                    }
                    Thread.sleep(100);
                }
                assertThat(apiOut.get("support.dlq"))
                        .filteredOn(d -> d.toString().contains("api-1"))
                        .as("the posted correction was dead-lettered")
                        .isEmpty();
                assertThat(apiOut.get("support.learning-signals"))
                        .filteredOn(s -> s.get("feedback_id").asText().equals("api-1"))
                        .hasSize(1);
                assertThat(metricAt[0])
                        .as("the accuracy metric counted the correction")
                        .isPositive();
                long metricMs = (metricAt[0] - t0) / 1_000_000;
                assertThat(scrape(http))
                        .containsPattern(
                                "feedback_accuracy\\{[^}]*agent=\"sentiment\"[^}]*\\} [0-9.]+");
                long signalsWanted = expected.values().stream().filter("signal"::equals).count();
                long deadWanted = expected.size() - signalsWanted + 1; // + the malformed record
                List<String> topics =
                        List.of(
                                "support.learning-signals",
                                "support.dlq",
                                "support.ai.sentiment",
                                "support.ai.pii");
                Map<String, List<JsonNode>> out =
                        KafkaOutputs.readCommitted(
                                bootstrap,
                                topics,
                                got ->
                                        got.get("support.learning-signals").size() >= signalsWanted
                                                && feedbackDeadLetters(got).size() >= deadWanted,
                                TTL.plus(Duration.ofMinutes(2)));

                // Exactly once: one signal per matched feedback id, none for the others.
                List<JsonNode> signals = out.get("support.learning-signals");
                List<String> signalIds = new ArrayList<>();
                Set<String> signalled = new HashSet<>();
                for (JsonNode s : signals) {
                    signalIds.add(s.get("signal_id").asText());
                    signalled.add(s.get("feedback_id").asText());
                }
                assertThat(signalIds).as("duplicate signals").doesNotHaveDuplicates();
                Set<String> wantSignals = new HashSet<>();
                expected.forEach(
                        (id, outcome) -> {
                            if (outcome.equals("signal")) {
                                wantSignals.add(id);
                            }
                        });
                assertThat(signalled).isEqualTo(wantSignals);

                // Each signal judges the result the agent really published.
                Map<String, JsonNode> results = new HashMap<>();
                for (String t : List.of("support.ai.sentiment", "support.ai.pii")) {
                    for (JsonNode r : out.get(t)) {
                        results.put(resultKey(r), r);
                    }
                }
                for (JsonNode s : signals) {
                    JsonNode r = results.get(resultKey(s));
                    assertThat(r).as("result judged by %s", s).isNotNull();
                    JsonNode predicted = r.get("result").get(s.get("field").asText());
                    assertThat(s.get("predicted")).isEqualTo(predicted);
                    boolean agreed =
                            predicted.isTextual()
                                    ? predicted
                                            .asText()
                                            .equalsIgnoreCase(s.get("expected").asText())
                                    : predicted.equals(s.get("expected"));
                    assertThat(s.get("agreed").asBoolean()).as("agreed of %s", s).isEqualTo(agreed);
                    assertThat(s.get("provider").asText()).isEqualTo(r.get("provider").asText());
                    assertThat(s.get("model").asText()).isEqualTo(r.get("model").asText());
                    assertThat(s.get("prompt_version").asText())
                            .isEqualTo(r.get("prompt_version").asText());
                    assertThat(s.get("prompt_hash").asText())
                            .isEqualTo(r.get("prompt_hash").asText());
                    assertThat(s.get("signal_id").asText())
                            .isEqualTo(
                                    FeedbackJoinFunction.signalId(
                                            s.get("tenant_id").asText(),
                                            s.get("conversation_id").asText(),
                                            s.get("feedback_id").asText()));
                }

                // Every other feedback is on the DLQ once, with its reason.
                Map<String, String> dead = new TreeMap<>();
                int malformed = 0;
                for (JsonNode d : feedbackDeadLetters(out)) {
                    if (d.get("error_type").asText().equals("malformed_json")) {
                        malformed++;
                        continue;
                    }
                    JsonNode original = Json.MAPPER.readTree(d.get("original").asText());
                    String id = original.get("feedback_id").asText();
                    assertThat(dead.put(id, d.get("error_type").asText()))
                            .as("dead-lettered twice: %s", id)
                            .isNull();
                }
                assertThat(malformed).isEqualTo(1);
                Map<String, String> wantDead = new TreeMap<>(expected);
                wantDead.values().removeIf("signal"::equals);
                assertThat(dead).isEqualTo(wantDead);
                assertThat(FAILURES.get()).as("the injected failure happened").isEqualTo(1);

                System.out.printf(
                        "feedback itcase: %d messages, %d signals, %d feedback dead letters %s, 1"
                            + " injected failure; POST /v1/feedback -> committed learning signal in"
                            + " %d ms, -> accuracy metric (feedback_total) in %d ms (checkpoint"
                            + " interval %s)%n",
                        lines.size(),
                        signals.size(),
                        dead.size() + malformed,
                        dead,
                        signalMs,
                        metricMs,
                        conf.get(
                                org.apache.flink.configuration.CheckpointingOptions
                                        .CHECKPOINTING_INTERVAL));
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
                CommonTestUtils.waitForJobStatus(job, List.of(JobStatus.CANCELED));
            }
        }
    }

    static ObjectNode feedback(
            String id,
            String tenant,
            String conversation,
            long version,
            String agent,
            String field,
            String expected) {
        ObjectNode f = Json.MAPPER.createObjectNode();
        f.put("feedback_id", id);
        f.put("tenant_id", tenant);
        f.put("conversation_id", conversation);
        f.put("version", version);
        f.put("agent", agent);
        f.put("field", field);
        f.put("expected", expected);
        f.put("user_id", "supervisor-1");
        f.put("comment", "itcase");
        return f;
    }

    static String resultKey(JsonNode n) {
        return n.get("tenant_id").asText()
                + ":"
                + n.get("conversation_id").asText()
                + "#"
                + n.get("version").asLong()
                + "/"
                + n.get("agent").asText();
    }

    static List<JsonNode> feedbackDeadLetters(Map<String, List<JsonNode>> got) {
        return got.get("support.dlq").stream()
                .filter(d -> d.get("stage").asText().startsWith("feedback"))
                .toList();
    }

    static void produce(String bootstrap, String topic, List<ObjectNode> records) {
        try (KafkaProducer<byte[], byte[]> p = producer(bootstrap)) {
            for (ObjectNode r : records) {
                String key = r.get("tenant_id").asText() + ":" + r.get("conversation_id").asText();
                p.send(
                        new ProducerRecord<>(
                                topic, key.getBytes(StandardCharsets.UTF_8), Json.toBytes(r)));
            }
            p.flush();
        }
    }

    static void produceRaw(String bootstrap, String topic, String value) {
        try (KafkaProducer<byte[], byte[]> p = producer(bootstrap)) {
            p.send(new ProducerRecord<>(topic, value.getBytes(StandardCharsets.UTF_8)));
            p.flush();
        }
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static final Pattern FEEDBACK_TOTAL =
            Pattern.compile(
                    "(?m)^flink_taskmanager_job_task_operator_agent_provider_model_prompt_version"
                            + "_feedback_total\\{[^}]*\\} ([0-9.Ee+-]+)$");

    /** The sum of {@code feedback_total} over all series, 0 when absent or not scrapable. */
    static double feedbackTotal(HttpClient http) {
        String text;
        try {
            text = scrape(http);
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        double sum = 0;
        Matcher m = FEEDBACK_TOTAL.matcher(text);
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    static String scrape(HttpClient http) throws IOException, InterruptedException {
        return http.send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + PROM_PORT + "/metrics"))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }
}

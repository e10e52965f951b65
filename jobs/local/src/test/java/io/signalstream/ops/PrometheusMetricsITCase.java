package io.signalstream.ops;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.signalstream.ops.PrometheusScrape.any;
import static io.signalstream.ops.PrometheusScrape.label;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job on a MiniCluster with the Prometheus reporter (configured as in {@code
 * flink-conf/config.yaml}, on a free loopback port) and the real in-process broker: real
 * conversations in, two agents on the local analyzers and two on the {@code openai} provider
 * against a loopback LLM server that injects faults, {@code /metrics} scraped over HTTP. Every
 * metric of the operations guide must exist with plausible values; the scrapes over time are drawn
 * as the dashboard picture ({@code target/signalstream-dashboard.png}).
 */
class PrometheusMetricsITCase {

    static final int PROM_PORT = PrometheusMiniCluster.freePort();
    static final String OP = "flink_taskmanager_job_task_operator_";
    static final String AGENT = OP + "agent_provider_";

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            PrometheusMiniCluster.withReporterOn(PROM_PORT);

    @TempDir static Path tmp;

    /** The Kafka sinks, by the name the job gives them. */
    static final List<String> SINKS =
            List.of(
                    "sink: conversation state",
                    "sink: agent results",
                    "sink: aggregated",
                    "sink: lineage",
                    "sink: dead letters",
                    "sink: alerts",
                    "sink: learning signals");

    /** Metric-name collision warnings of Flink's metric groups, captured during the test. */
    static final StringWriter COLLISIONS = new StringWriter();

    static WriterAppender collisionAppender;

    @BeforeAll
    static void captureCollisions() {
        // AbstractMetricGroup logs "Name collision: ..." on the logger of MetricGroup, at WARN.
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        collisionAppender =
                WriterAppender.createAppender(
                        PatternLayout.newBuilder().withPattern("%m%n").build(),
                        null,
                        COLLISIONS,
                        "metric-collisions",
                        false,
                        true);
        collisionAppender.start();
        org.apache.logging.log4j.core.config.Configuration cfg = ctx.getConfiguration();
        cfg.addAppender(collisionAppender);
        LoggerConfig metrics =
                LoggerConfig.newBuilder()
                        .withLoggerName(METRIC_GROUP_LOGGER)
                        .withLevel(Level.WARN)
                        .withAdditivity(false)
                        .withConfig(cfg)
                        .build();
        metrics.addAppender(collisionAppender, Level.ALL, null);
        cfg.addLogger(METRIC_GROUP_LOGGER, metrics);
        ctx.updateLoggers();
    }

    @AfterAll
    static void stopCapture() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().removeLogger(METRIC_GROUP_LOGGER);
        ctx.updateLoggers();
        if (collisionAppender != null) {
            collisionAppender.stop();
        }
    }

    static final String METRIC_GROUP_LOGGER = "org.apache.flink.metrics.MetricGroup";

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void metricsReachPrometheus() throws Exception {
        assertThat(
                        PrometheusMiniCluster.reporterConf(PROM_PORT)
                                .getString("metrics.reporter.prom.factory.class", ""))
                .endsWith("PrometheusReporterFactory");
        // Input: the first 80 conversations of the real file.
        List<String> all = ConversationReplayer.readLines(null);
        Set<String> conversations = new LinkedHashSet<>();
        List<String> lines = new ArrayList<>();
        for (String line : all) {
            JsonNode n = Json.MAPPER.readTree(line);
            String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
            if (conversations.size() < 80 || conversations.contains(key)) {
                conversations.add(key);
                lines.add(line);
            }
        }
        var events = ConversationReplayer.toEvents(lines);

        HttpClient http = HttpClient.newHttpClient();
        DashboardPicture picture = new DashboardPicture();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
                LoopbackLlmServer llm =
                        LoopbackLlmServer.start(
                                LoopbackLlmServer.faulty(
                                        LoopbackLlmServer.schemaAnswers(), 0.15, 11, 120))) {
            Configuration conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
            conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            conf.set(JobOptions.GROUP_ID, "metrics-itcase");
            conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "metrics-itcase");
            for (String agent : List.of("insights", "summary")) {
                conf.set(AgentOptions.provider(agent), "openai");
            }
            conf.set(ProviderOptions.baseUrl("openai"), llm.baseUrl());
            conf.set(ProviderOptions.model("openai"), "loopback");
            conf.set(ProviderOptions.retryInitialBackoff("openai"), Duration.ofMillis(20));
            conf.set(ProviderOptions.retryMaxBackoff("openai"), Duration.ofMillis(200));
            conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(20));
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 2, (short) 1));

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(conf);
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .executeAsync(env, "metrics-itcase");
            try {
                ConversationReplayer.produce(
                        broker.bootstrapServers(),
                        new Properties(),
                        conf.get(JobOptions.TOPIC_INPUT),
                        events,
                        400,
                        n -> {});
                produceMalformed(broker.bootstrapServers(), conf.get(JobOptions.TOPIC_INPUT));

                // Scrape every second until every message has its aggregated output.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
                PrometheusScrape s = null;
                while (System.nanoTime() < deadline) {
                    try {
                        s = PrometheusScrape.of(http, PROM_PORT);
                        picture.add(s);
                        double done =
                                s.sum(OP + "aggregated_complete", any())
                                        + s.sum(OP + "aggregated_partial", any());
                        if (done >= events.size()
                                && s.sum(OP + "dead_letters_reason_count", any()) >= 2) {
                            break;
                        }
                    } catch (IOException e) {
                        // the reporter is up once the TaskManager is; retry
                    }
                    Thread.sleep(1000);
                }
                assertThat(s).as("no scrape of port %d", PROM_PORT).isNotNull();
                Files.writeString(Path.of("target/prometheus-metrics-itcase.txt"), s.text);
                assertMetrics(s, events.size(), conversations.size());
                assertOnlyKnownCollisions(COLLISIONS.toString());
                picture.write(Path.of("target/signalstream-dashboard.png"));
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }

    private static void assertMetrics(PrometheusScrape s, int messages, int conversationCount) {
        // Job level.
        assertThat(
                        s.sum(OP + "aggregated_complete", any())
                                + s.sum(OP + "aggregated_partial", any()))
                .isEqualTo(messages);
        assertThat(s.find(OP + "aggregated_partial", any())).isNotEmpty();
        assertThat(s.sum(OP + "conversations_started", any())).isEqualTo(conversationCount);
        assertThat(s.sum(OP + "active_conversations", any())).isEqualTo(conversationCount);
        assertThat(s.sum(OP + "dead_letters_reason_count", label("reason", "malformed_json")))
                .isEqualTo(1);
        assertThat(s.sum(OP + "dead_letters_reason_count", label("reason", "missing_field")))
                .isEqualTo(1);
        assertThat(s.sum(OP + "end_to_end_latency_ms_count", any())).isPositive();
        double p50 = s.max(OP + "end_to_end_latency_ms", label("quantile", "0.5"));
        double p99 = s.max(OP + "end_to_end_latency_ms", label("quantile", "0.99"));
        assertThat(p50).isPositive().isLessThan(60_000);
        assertThat(p99).isGreaterThanOrEqualTo(p50).isLessThan(120_000);
        assertThat(s.max(OP + "join_wait_ms", label("quantile", "0.5"))).isBetween(0.0, 60_000.0);

        // Per agent and provider.
        for (String agent : List.of("pii", "sentiment", "insights", "summary")) {
            String provider =
                    agent.equals("insights") || agent.equals("summary") ? "openai" : "local";
            var f = label("agent", agent).and(label("provider", provider));
            double requests = s.sum(AGENT + "requests", f);
            double successes = s.sum(AGENT + "successes", f);
            assertThat(requests).as("%s requests", agent).isPositive();
            assertThat(successes)
                    .as("%s successes", agent)
                    .isPositive()
                    .isLessThanOrEqualTo(requests);
            for (String counter : List.of("failures", "timeouts", "fallbacks", "retries")) {
                assertThat(s.sum(AGENT + counter, f))
                        .as("%s %s", agent, counter)
                        .isBetween(0.0, requests);
            }
            assertThat(s.sum(AGENT + "in_flight", f))
                    .as("%s in_flight", agent)
                    .isBetween(0.0, 64.0 * 2);
            assertThat(s.sum(AGENT + "latency_ms_count", f))
                    .as("%s latency samples", agent)
                    .isPositive();
            assertThat(s.max(AGENT + "latency_ms", f.and(label("quantile", "0.95"))))
                    .isBetween(0.0, 20_000.0);
            if (provider.equals("openai")) {
                assertThat(s.sum(AGENT + "prompt_tokens", f))
                        .as("%s prompt tokens", agent)
                        .isPositive();
                assertThat(s.sum(AGENT + "completion_tokens", f))
                        .as("%s completion tokens", agent)
                        .isPositive();
                assertThat(s.max(AGENT + "llm_requests", f)).isPositive();
                assertThat(s.max(AGENT + "llm_retries", f)).as("faults were injected").isPositive();
                assertThat(s.find(AGENT + "llm_cache_hits", f)).isNotEmpty();
                assertThat(s.max(AGENT + "llm_cache_hits", f))
                        .isBetween(0.0, s.max(AGENT + "llm_requests", f) + requests);
            } else {
                assertThat(s.find(AGENT + "prompt_tokens", f)).isNotEmpty();
            }
        }
        // Consumer lag of the Kafka source (for the dashboard).
        assertThat(s.find(OP + "pendingRecords", any())).isNotEmpty();

        // Every Kafka sink's committer reports its own metrics: one series per sink and subtask
        // (parallelism 2), under the committer operator's name ("<sink name>: Committer").
        double committed = 0;
        for (String sink : SINKS) {
            var committer = committerOf(sink);
            for (String metric :
                    List.of(
                            "pendingCommittables",
                            "totalCommittables",
                            "successfulCommittables",
                            "failedCommittables")) {
                assertThat(s.find(OP + metric, committer)).as("%s of %s", metric, sink).hasSize(2);
            }
            assertThat(s.sum(OP + "failedCommittables", committer)).isZero();
            committed += s.sum(OP + "totalCommittables", committer);
        }
        assertThat(committed).as("committables of all sinks").isPositive();
        assertThat(s.find(OP + "pendingCommittables", any())).hasSize(2 * SINKS.size());
    }

    /** The committer operator of a sink, as the Prometheus reporter labels it. */
    static java.util.function.Predicate<java.util.Map<String, String>> committerOf(String sink) {
        String want = normalized(sink + ": Committer");
        return labels -> normalized(labels.getOrDefault("operator_name", "")).equals(want);
    }

    static String normalized(String name) {
        return name.replaceAll("[^A-Za-z0-9]+", "_");
    }

    /**
     * The metric-name collisions logged while the job ran. Two are known self-collisions of one
     * sink operator with itself, in the libraries, and harmless: the first registration stays and
     * reports the same value (the per-sink series are checked above):
     *
     * <ul>
     *   <li>{@code pendingCommittables} on a committer, on every checkpoint: the committer copies
     *       its collector for the snapshot and the copy registers the gauge again on the same
     *       operator group (Flink 2.2.1, FLINK-35321, fixed upstream after 2.2.1);
     *   <li>{@code currentSendTime} on an exactly-once writer, once per subtask at start: the
     *       connector's ExactlyOnceKafkaWriter registers its writer metrics in the KafkaWriter
     *       constructor and again in its own (flink-connector-kafka 5.0.0-2.2).
     * </ul>
     *
     * Any other collision fails, and so does one that does not name exactly one sink's own
     * operator: two sinks never collide with each other.
     */
    static void assertOnlyKnownCollisions(String log) {
        List<String> warnings = log.lines().filter(l -> l.startsWith("Name collision")).toList();
        java.util.Map<String, Integer> byKind = new java.util.TreeMap<>();
        for (String w : warnings) {
            // "... with the name 'm'. Metric will not be reported.[host, taskmanager, tm, job,
            // operator, subtask]"
            String metric = w.substring(w.indexOf('\'') + 1, w.indexOf('\'', w.indexOf('\'') + 1));
            String[] scope = w.substring(w.lastIndexOf('[') + 1, w.lastIndexOf(']')).split(", ");
            String operator = scope.length >= 2 ? scope[scope.length - 2] : "";
            String suffix =
                    switch (metric) {
                        case "pendingCommittables" -> ": Committer";
                        case "currentSendTime" -> ": Writer";
                        default -> null;
                    };
            assertThat(suffix).as("an unexpected metric-name collision: %s", w).isNotNull();
            assertThat(SINKS.stream().map(sink -> sink + suffix).toList())
                    .as("the collision is within one sink's own operator: %s", w)
                    .contains(operator);
            byKind.merge(metric + " @ " + operator, 1, Integer::sum);
        }
        System.out.printf(
                "metric-name collision warnings: %d, all known self-collisions: %s%n",
                warnings.size(), byKind);
    }

    private static void produceMalformed(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(
                    new ProducerRecord<>(
                            topic, "this is not json".getBytes(StandardCharsets.UTF_8)));
            producer.send(
                    new ProducerRecord<>(
                            topic,
                            "{\"tenant_id\":\"acme\",\"sender\":\"customer\",\"message\":\"hi\"}"
                                    .getBytes(StandardCharsets.UTF_8)));
            producer.flush();
        }
    }
}

package io.signalstream.local;

import io.signalstream.agents.ProviderStats;
import io.signalstream.api.ApiOptions;
import io.signalstream.api.ApiServer;
import io.signalstream.api.JwtTokens;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.JobConfigLoader;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local demo: an in-process KRaft broker, the job on a MiniCluster with RocksDB and
 * exactly-once checkpoints, a replay of real conversations, and a read_committed view of what comes
 * out. It ends when every input record has its output (or a dead letter), or when the timeout
 * passes.
 */
public final class Demo {

    /**
     * Demo settings.
     *
     * @param data conversation file, or null for the bundled data
     * @param messagesPerSecond replay rate; 0 or less for as fast as possible
     * @param workDir directory for the broker's log, checkpoints and RocksDB
     * @param parallelism job parallelism
     * @param timeout how long to wait for every output
     * @param conf user configuration (config file, -D options)
     * @param llmLoopback run the agents on the openai provider against a loopback server
     * @param llmFaultRate share of loopback requests that get a fault
     * @param llmMaxDelayMs random extra delay of loopback answers, 0..this
     * @param apiPort with a value, keep the broker and the job running after the replay and serve
     *     the API and dashboard on this port (0: a free one) until the JVM is stopped
     */
    public record Settings(
            Path data,
            double messagesPerSecond,
            Path workDir,
            int parallelism,
            Duration timeout,
            Configuration conf,
            boolean llmLoopback,
            double llmFaultRate,
            long llmMaxDelayMs,
            Integer apiPort) {}

    private final Settings settings;
    private final PrintStream out;

    /**
     * @param settings what to run
     * @param out where to print progress and results
     */
    public Demo(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /**
     * Runs the demo to the end.
     *
     * @return the report; {@code missing} and {@code duplicates} are 0 on success
     * @throws Exception if the broker or the job cannot start
     */
    public DemoReport run() throws Exception {
        List<String> lines = ConversationReplayer.readLines(settings.data());
        var events = ConversationReplayer.toEvents(lines);
        out.printf(
                "SignalStream demo: %d messages from %s%n",
                events.size(),
                settings.data() == null
                        ? "the bundled IBM customer-care conversations"
                        : settings.data());
        LoopbackLlmServer llmServer = null;
        Configuration userConf = new Configuration(settings.conf());
        if (settings.llmLoopback()) {
            LoopbackLlmServer.Responder responder = LoopbackLlmServer.schemaAnswers();
            if (settings.llmFaultRate() > 0 || settings.llmMaxDelayMs() > 0) {
                responder =
                        LoopbackLlmServer.faulty(
                                responder, settings.llmFaultRate(), 42, settings.llmMaxDelayMs());
            }
            llmServer = LoopbackLlmServer.start(responder);
            ProviderOptions.useForAllAgents(
                    userConf, "openai", llmServer.baseUrl(), "loopback", Duration.ofSeconds(20));
            out.printf(
                    "LLM: provider openai against the loopback server %s (fault rate %.2f, delay"
                            + " 0..%d ms)%n",
                    llmServer.baseUrl(), settings.llmFaultRate(), settings.llmMaxDelayMs());
        }
        for (String provider : ProviderStats.all().keySet()) {
            ProviderStats.of(provider).reset();
        }
        try (EmbeddedKafkaBroker broker =
                        EmbeddedKafkaBroker.start(settings.workDir().resolve("kafka"));
                AutoCloseable closeLlm = llmServer == null ? () -> {} : llmServer) {
            out.printf("Kafka broker (KRaft, in-process) on %s%n", broker.bootstrapServers());
            Configuration conf =
                    LocalFlinkConfig.withLocalDefaults(
                            userConf, settings.workDir(), settings.parallelism());
            conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            Properties kafkaProps = JobConfigLoader.kafkaProperties(conf);
            KafkaTopics.create(
                    broker.bootstrapServers(), kafkaProps, KafkaTopics.layout(conf, 4, (short) 1));

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(conf);
            long start = System.nanoTime();
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, kafkaProps)
                            .executeAsync(env, "signalstream-demo");
            out.printf(
                    "Flink job %s submitted (MiniCluster, parallelism %d, RocksDB, exactly-once)%n",
                    job.getJobID(), settings.parallelism());
            AtomicInteger sent = new AtomicInteger();
            CompletableFuture<List<ConversationReplayer.Produced>> producing =
                    CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return ConversationReplayer.produce(
                                            broker.bootstrapServers(),
                                            kafkaProps,
                                            conf.get(JobOptions.TOPIC_INPUT),
                                            events,
                                            settings.messagesPerSecond(),
                                            sent::set);
                                } catch (Exception e) {
                                    throw new IllegalStateException("replay failed: " + e, e);
                                }
                            });
            DemoReport report;
            try (OutputTracker tracker =
                    new OutputTracker(broker.bootstrapServers(), kafkaProps, conf)) {
                long deadline = System.nanoTime() + settings.timeout().toNanos();
                long lastDraw = 0;
                List<ConversationReplayer.Produced> produced = null;
                int missing = events.size();
                while (System.nanoTime() < deadline) {
                    tracker.poll(Duration.ofMillis(200));
                    if (produced == null && producing.isDone()) {
                        produced = producing.join();
                    }
                    if (produced != null) {
                        missing = tracker.missing(produced).size();
                    }
                    long redraw = System.console() != null ? 1_000_000_000L : 5_000_000_000L;
                    if (System.nanoTime() - lastDraw > redraw
                            || (produced != null && missing == 0)) {
                        progress(sent.get(), events.size(), tracker, start);
                        lastDraw = System.nanoTime();
                    }
                    if (produced != null && missing == 0) {
                        break;
                    }
                    JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
                    if (status.isGloballyTerminalState()) {
                        out.println();
                        out.println("The job ended unexpectedly: " + status);
                        break;
                    }
                }
                double elapsed = (System.nanoTime() - start) / 1e9;
                // Read a little longer: anything that arrives now would be a duplicate.
                long settle = System.nanoTime() + 3_000_000_000L;
                while (System.nanoTime() < settle) {
                    tracker.poll(Duration.ofMillis(200));
                }
                out.println();
                report =
                        new DemoReport(
                                events.size(),
                                tracker.snapshots(),
                                tracker.aggregated(),
                                tracker.complete(),
                                tracker.partial(),
                                tracker.lineageRecords(),
                                tracker.deadLetters(),
                                tracker.deadLetterReasons(),
                                tracker.agentResults(),
                                tracker.agentStatuses(),
                                produced == null ? events.size() : tracker.missing(produced).size(),
                                tracker.duplicates(),
                                Math.round(elapsed * 10) / 10.0,
                                Math.round(events.size() / elapsed * 10) / 10.0,
                                ProviderStats.all(),
                                llmServer == null ? 0 : llmServer.requestCount(),
                                tracker.alertsPerType());
                printResults(report, tracker);
                if (settings.apiPort() != null) {
                    serveUntilStopped(broker.bootstrapServers(), kafkaProps, tracker.tenants());
                }
            } finally {
                cancel(job);
            }
            return report;
        }
    }

    /**
     * Serves the API and dashboard over the demo's broker until the JVM is stopped (Ctrl-C): prints
     * the dashboard URL and a development token per tenant. The HS256 secret is {@code
     * SIGNALSTREAM_API_JWT_SECRET} (at least 32 bytes), or a random one for this run.
     */
    private void serveUntilStopped(String bootstrap, Properties kafkaProps, Set<String> tenants)
            throws InterruptedException {
        String env = System.getenv(JwtTokens.SECRET_ENV);
        byte[] secret;
        if (env != null) {
            secret = env.getBytes(StandardCharsets.UTF_8); // checked by hs256: at least 32 bytes
        } else {
            secret = new byte[32];
            new SecureRandom().nextBytes(secret);
        }
        ApiOptions options =
                ApiOptions.defaults(bootstrap, settings.apiPort(), JwtTokens.hs256(secret))
                        .withKafkaProperties(kafkaProps);
        ApiServer.serveUntilShutdown(
                options,
                api -> {
                    out.println();
                    out.printf("API and live dashboard on %s (Ctrl-C to stop)%n", api.url());
                    out.println("Development tokens (valid 12 h), one per tenant:");
                    for (String tenant : new TreeSet<>(tenants)) {
                        String token = JwtTokens.hs256Token(secret, tenant, Duration.ofHours(12));
                        out.printf("  %-20s %s/?access_token=%s%n", tenant, api.url(), token);
                    }
                    out.flush();
                });
    }

    private void progress(int sent, int total, OutputTracker t, long start) {
        int done = t.aggregated() + t.deadLetters();
        boolean terminal = System.console() != null;
        int width = 30;
        int filled = total == 0 ? width : Math.min(width, done * width / total);
        out.printf(
                Locale.ROOT,
                (terminal ? "\r" : "")
                        + "[%s%s] %4d/%d outputs  sent %d  snapshots %d  dlq %d  %.1fs "
                        + (terminal ? "" : "%n"),
                "#".repeat(filled),
                " ".repeat(width - filled),
                done,
                total,
                sent,
                t.snapshots(),
                t.deadLetters(),
                (System.nanoTime() - start) / 1e9);
        out.flush();
    }

    /** One line per aggregated record: who, which version, and what the agents said. */
    static String describe(JsonNode v) {
        String summary = v.at("/summary/summary").asText("");
        return String.format(
                Locale.ROOT,
                "%s/%s v%d: %s (%.2f), intent %s, urgency %s%s, pii %s, summary \"%s\"",
                v.path("tenant_id").asText(),
                v.path("conversation_id").asText(),
                v.path("version").asLong(),
                v.at("/sentiment/label").asText("-"),
                v.at("/sentiment/score").asDouble(),
                v.at("/insights/intent").asText("-"),
                v.at("/insights/urgency").asText("-"),
                v.at("/insights/requires_escalation").asBoolean() ? " (escalate)" : "",
                v.at("/pii/has_pii").asBoolean() ? "yes" : "no",
                summary.length() > 90 ? summary.substring(0, 90) + "…" : summary);
    }

    /** One line per alert: severity, type, where, and why. */
    static String describeAlert(JsonNode a) {
        return String.format(
                Locale.ROOT,
                "[%-8s] %-23s %s/%s v%d: %s",
                a.path("severity").asText(),
                a.path("type").asText(),
                a.path("tenant_id").asText(),
                a.path("conversation_id").asText(),
                a.path("version").asLong(),
                a.path("reason").asText());
    }

    private void cancel(JobClient job) {
        try {
            job.cancel().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            out.println("warning: could not cancel the job cleanly: " + e.getMessage());
        }
    }

    private void printResults(DemoReport r, OutputTracker tracker) {
        Map<String, JsonNode> latest = tracker.latestAggregated();
        out.println();
        out.println("What a read_committed consumer sees:");
        out.printf("  %-32s %6d%n", "support.messages.raw (in)", r.messagesIn());
        out.printf("  %-32s %6d%n", "support.conversations.state", r.snapshots());
        r.agentResults().forEach((a, n) -> out.printf("  %-32s %6d%n", "support.ai." + a, n));
        out.printf(
                "  %-32s %6d  (complete %d, partial %d)%n",
                "support.ai.aggregated", r.aggregatedOut(), r.complete(), r.partial());
        out.printf("  %-32s %6d%n", "support.lineage", r.lineageOut());
        out.printf("  %-32s %6d  %s%n", "support.dlq", r.deadLettered(), r.deadLetterReasons());
        out.printf("  agent statuses: %s%n", r.agentStatuses());
        r.llm()
                .forEach(
                        (provider, stats) -> {
                            long hits = stats.getOrDefault("cache_hits", 0L);
                            long lookups = hits + stats.getOrDefault("cache_misses", 0L);
                            out.printf(
                                    Locale.ROOT,
                                    "  LLM provider %s: %d requests (%.2f per input message), cache"
                                            + " hit rate %.3f, %s%n",
                                    provider,
                                    stats.get("requests"),
                                    (double) stats.get("requests") / Math.max(1, r.messagesIn()),
                                    lookups == 0 ? 0.0 : (double) hits / lookups,
                                    stats);
                        });
        out.printf(
                Locale.ROOT,
                "  LLM cost: %.3f requests and %.1f prompt tokens per input message%n",
                r.llmRequestsPerMsg(),
                r.promptTokensPerMsg());

        out.println();
        out.println(
                "A few aggregated records (newest version of negative or urgent conversations):");
        latest.values().stream()
                .filter(
                        v ->
                                "negative".equals(v.at("/sentiment/label").asText())
                                        || v.at("/insights/requires_escalation").asBoolean())
                .limit(5)
                .forEach(v -> out.println("  " + describe(v)));
        latest.values().stream()
                .filter(v -> v.path("version").asLong() >= 3)
                .findFirst()
                .ifPresent(
                        v ->
                                out.println(
                                        "One of them in full:\n"
                                                + Json.toPrettyString(v).indent(2)));

        Map<String, int[]> perTenant = new TreeMap<>();
        for (JsonNode v : latest.values()) {
            int[] c = perTenant.computeIfAbsent(v.path("tenant_id").asText(), k -> new int[3]);
            c[0]++;
            if ("negative".equals(v.path("sentiment").path("label").asText())) {
                c[1]++;
            }
            String urgency = v.path("insights").path("urgency").asText();
            if (urgency.equals("high") || urgency.equals("critical")) {
                c[2]++;
            }
        }
        out.println();
        out.println("Conversations per tenant (latest state): total / negative / urgent");
        perTenant.forEach((t, c) -> out.printf("  %-20s %4d %4d %4d%n", t, c[0], c[1], c[2]));
        out.println();
        out.printf("Alerts raised (support.alerts): %d %s%n", tracker.alerts().size(), r.alerts());
        Map<String, Integer> shown = new TreeMap<>();
        for (JsonNode a : tracker.alerts()) {
            if (shown.merge(a.path("type").asText(), 1, Integer::sum) <= 2) {
                out.println("  " + describeAlert(a));
            }
        }
        out.println();
        out.printf(
                "PII found in %d conversations: %s%n",
                tracker.conversationsWithPii().size(), tracker.piiTypes());
        out.println();
        out.printf(
                Locale.ROOT,
                "messages_in %d, aggregated_out %d, dead_lettered %d, missing %d, duplicates %d,"
                        + " elapsed %.1f s%n",
                r.messagesIn(),
                r.aggregatedOut(),
                r.deadLettered(),
                r.missing(),
                r.duplicates(),
                r.elapsedS());
    }
}

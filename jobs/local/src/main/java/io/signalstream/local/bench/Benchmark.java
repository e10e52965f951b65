package io.signalstream.local.bench;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentSpec;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.functions.AgentProviders;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.llm.OpenAiProvider;
import io.signalstream.llm.ProviderSettings;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The end-to-end benchmark: the real job with exactly-once on, the in-process broker, all four
 * agents on the {@code openai} provider against a loopback OpenAI-compatible server whose answers
 * take a uniform random time in [0.5 L, 1.5 L] (mean L). Real conversation texts are replayed under
 * fresh conversation ids for each run:
 *
 * <ul>
 *   <li>{@code saturated}: all messages at once; throughput, LLM requests per second, and the
 *       achieved in-flight requests by Little's law (L = λ W: the LLM request rate times the
 *       server's mean answer time) against the limit, the provider's in-flight bound; the limit in
 *       requests per second is that bound divided by the answer time
 *   <li>{@code 1x}, {@code 4x}, {@code 16x}: the base rate and multiples; latency from produce to
 *       visible to a read_committed consumer
 *   <li>{@code 1x-10x-conversations}: the base rate over ten times as many conversations
 * </ul>
 *
 * The same messages also go through a naive synchronous baseline (one message at a time, its agents
 * called one after another and waited for) against the same server, in the same run.
 */
public final class Benchmark {

    /**
     * Settings.
     *
     * @param messages messages per run
     * @param llmLatencyMs mean LLM answer time
     * @param baseRate messages per second of the 1x run
     * @param capacity in-flight LLM requests allowed (provider bound and async capacity)
     * @param workDir broker and checkpoint directory
     * @param provider {@code openai} (against the loopback server) or {@code local} (the in-process
     *     analyzers; no LLM figures)
     */
    public record Settings(
            int messages,
            long llmLatencyMs,
            double baseRate,
            int capacity,
            Path workDir,
            String provider) {

        /** Settings with the {@code openai} provider against the loopback server. */
        public Settings(
                int messages, long llmLatencyMs, double baseRate, int capacity, Path workDir) {
            this(messages, llmLatencyMs, baseRate, capacity, workDir, "openai");
        }

        boolean local() {
            return "local".equals(provider);
        }
    }

    private final Settings s;
    private final PrintStream out;
    private final AtomicLong serverDelayMs = new AtomicLong();
    private final AtomicLong serverReplies = new AtomicLong();

    /**
     * @param settings what to run @param out progress output
     */
    public Benchmark(Settings settings, PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    /**
     * Runs everything and returns the report.
     *
     * @throws Exception if the broker, the server or the job cannot start
     */
    public Map<String, Object> run() throws Exception {
        List<String> lines = ConversationReplayer.readLines(null);
        Random random = new Random(7);
        long lat = s.llmLatencyMs();
        LoopbackLlmServer.Responder answers = LoopbackLlmServer.schemaAnswers();
        LoopbackLlmServer.Responder delayed =
                req -> {
                    long d = lat / 2 + (lat == 0 ? 0 : nextLong(random, lat + 1));
                    serverDelayMs.addAndGet(d);
                    serverReplies.incrementAndGet();
                    return answers.respond(req).withDelay(d);
                };
        Map<String, Object> report = new LinkedHashMap<>();
        List<Map<String, Object>> runs = new ArrayList<>();
        try (LoopbackLlmServer llm = LoopbackLlmServer.start(delayed);
                EmbeddedKafkaBroker broker =
                        EmbeddedKafkaBroker.start(s.workDir().resolve("kafka"))) {
            Configuration conf =
                    LocalFlinkConfig.withLocalDefaults(new Configuration(), s.workDir(), 2);
            conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            conf.set(JobOptions.GROUP_ID, "bench");
            for (String agent : AgentOptions.ALL_AGENTS) {
                conf.set(AgentOptions.provider(agent), s.provider());
            }
            conf.set(ProviderOptions.baseUrl("openai"), llm.baseUrl());
            conf.set(ProviderOptions.model("openai"), "loopback");
            conf.set(ProviderOptions.maxInFlight("openai"), s.capacity());
            conf.set(ProviderOptions.cacheSize("openai"), 0);
            conf.set(AgentOptions.CAPACITY, s.capacity());
            conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(120));
            conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(150));
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 4, (short) 1));
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .executeAsync(
                                    StreamExecutionEnvironment.getExecutionEnvironment(conf),
                                    "signalstream-bench");
            try (Probe probe = new Probe(broker.bootstrapServers())) {
                int convs = Math.max(1, (int) Math.round(s.messages() / 2.3));
                // Warm-up: a small batch through the whole pipeline, not measured.
                measure("warm-up", lines, 50, 0, convs, broker, llm, probe);
                runs.add(measure("saturated", lines, s.messages(), 0, convs, broker, llm, probe));
                for (int x : new int[] {1, 4, 16}) {
                    runs.add(
                            measure(
                                    x + "x",
                                    lines,
                                    s.messages(),
                                    s.baseRate() * x,
                                    convs,
                                    broker,
                                    llm,
                                    probe));
                }
                runs.add(
                        measure(
                                "1x-10x-conversations",
                                lines,
                                s.messages(),
                                s.baseRate(),
                                convs * 10,
                                broker,
                                llm,
                                probe));
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
            Map<String, Object> sync = syncBaseline(lines, conf, lat);
            Map<String, Object> sat = runs.get(0);
            Map<String, Object> base = runs.get(1);
            double throughput = (double) sat.get("throughput_msgs_per_s");
            double inFlight = (double) sat.get("llm_in_flight_avg");
            report.put("messages", s.messages());
            report.put("llm_latency_ms", lat);
            report.put("capacity", s.capacity());
            report.put("throughput_msgs_per_s", throughput);
            report.put("llm_requests_per_s", sat.get("llm_requests_per_s"));
            report.put("latency_ms", base.get("latency_ms"));
            report.put("little_limit_in_flight", s.capacity());
            report.put(
                    "little_limit_requests_per_s",
                    s.local()
                            ? null
                            : round(
                                    s.capacity()
                                            / Math.max(
                                                    1e-9,
                                                    (double) sat.get("llm_mean_latency_ms")
                                                            / 1000)));
            report.put(
                    "little_efficiency",
                    s.local() ? null : round(Math.min(1.0, inFlight / s.capacity())));
            report.put("provider", s.provider());
            report.put("sync_baseline_msgs_per_s", sync.get("msgs_per_s"));
            report.put(
                    "speedup_vs_sync",
                    round(throughput / Math.max(1e-9, (double) sync.get("msgs_per_s"))));
            report.put("cpu_cores_used", sat.get("cpu_cores_used"));
            report.put(
                    "heap_mb_max",
                    runs.stream().mapToLong(r -> (long) r.get("heap_mb_max")).max().orElse(0));
            report.put("sync_baseline", sync);
            report.put("runs", runs);
        }
        return report;
    }

    private static long nextLong(Random r, long bound) {
        synchronized (r) {
            return (long) (r.nextDouble() * bound);
        }
    }

    /** Produces one batch and measures it until every message is visible as aggregated. */
    private Map<String, Object> measure(
            String name,
            List<String> lines,
            int n,
            double rate,
            int conversations,
            EmbeddedKafkaBroker broker,
            LoopbackLlmServer llm,
            Probe probe)
            throws Exception {
        List<Map.Entry<String, byte[]>> events = events(name, lines, n, conversations);
        Map<String, Long> producedAt = new ConcurrentHashMap<>();
        int requestsBefore = llm.requestCount();
        long delayBefore = serverDelayMs.get();
        long repliesBefore = serverReplies.get();
        OperatingSystemMXBean os =
                (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuBefore = os.getProcessCpuTime();
        HeapSampler heap = new HeapSampler();
        long start = System.nanoTime();
        probe.expect(events);
        List<String> ids = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : events) {
            ids.add(Json.MAPPER.readTree(e.getValue()).get("message_id").asText());
        }
        // Produce on its own thread while this one reads the outputs as they become visible.
        java.util.concurrent.CompletableFuture<Void> producing =
                java.util.concurrent.CompletableFuture.runAsync(
                        () -> {
                            try {
                                ConversationReplayer.produce(
                                        broker.bootstrapServers(),
                                        new Properties(),
                                        "support.messages.raw",
                                        events,
                                        rate,
                                        sent ->
                                                producedAt.put(
                                                        ids.get(sent - 1), System.nanoTime()));
                            } catch (Exception e) {
                                throw new IllegalStateException(
                                        "producing the benchmark input failed", e);
                            }
                        });
        Map<String, Long> visibleAt = probe.awaitAll(Duration.ofMinutes(5));
        producing.join();
        long end =
                visibleAt.values().stream()
                        .mapToLong(Long::longValue)
                        .max()
                        .orElse(System.nanoTime());
        double seconds = (end - start) / 1e9;
        heap.stop();
        long cpu = os.getProcessCpuTime() - cpuBefore;
        int requests = llm.requestCount() - requestsBefore;
        long[] latencies =
                visibleAt.entrySet().stream()
                        .mapToLong(
                                e ->
                                        (e.getValue()
                                                        - producedAt.getOrDefault(
                                                                e.getKey(), e.getValue()))
                                                / 1_000_000)
                        .sorted()
                        .toArray();
        long replies = serverReplies.get() - repliesBefore;
        double meanLlmMs =
                replies == 0 ? 0 : (double) (serverDelayMs.get() - delayBefore) / replies;
        double reqPerS = requests / seconds;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("run", name);
        r.put("messages", n);
        r.put("conversations", conversations);
        r.put("rate_msgs_per_s", rate == 0 ? "max" : rate);
        r.put("visible", visibleAt.size());
        r.put("elapsed_s", round(seconds));
        r.put("throughput_msgs_per_s", round(visibleAt.size() / seconds));
        r.put("llm_requests", requests);
        r.put("llm_requests_per_message", round((double) requests / n));
        r.put("llm_requests_per_s", round(reqPerS));
        r.put("llm_mean_latency_ms", round(meanLlmMs));
        r.put("agent_mean_latency_ms", round(probe.meanAgentLatencyMs()));
        r.put("llm_in_flight_avg", round(reqPerS * meanLlmMs / 1000));
        Map<String, Object> pct = new LinkedHashMap<>();
        pct.put("p50", percentile(latencies, 0.50));
        pct.put("p95", percentile(latencies, 0.95));
        pct.put("p99", percentile(latencies, 0.99));
        r.put("latency_ms", pct);
        r.put("cpu_cores_used", round(cpu / 1e9 / seconds));
        r.put("heap_mb_max", heap.maxMb());
        if (!name.equals("warm-up")) {
            out.printf(
                    "  %-22s %5d msgs  %7.1f msg/s  %6.1f LLM req/s  p50 %5d ms  p95 %5d ms  p99"
                            + " %5d ms  in-flight %.1f%n",
                    name,
                    n,
                    visibleAt.size() / seconds,
                    reqPerS,
                    pct.get("p50"),
                    pct.get("p95"),
                    pct.get("p99"),
                    reqPerS * meanLlmMs / 1000);
        }
        return r;
    }

    private static List<Map.Entry<String, byte[]>> events(
            String run, List<String> lines, int n, int conversations) throws Exception {
        List<Map.Entry<String, byte[]>> real = ConversationReplayer.toEvents(lines);
        List<Map.Entry<String, byte[]>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode e = (ObjectNode) Json.MAPPER.readTree(real.get(i % real.size()).getValue());
            String conv = "bench-" + run + "-" + (i % conversations);
            e.put("conversation_id", conv);
            e.put("message_id", run + "-" + i);
            e.put("timestamp", Instant.parse("2024-01-01T00:00:00Z").plusSeconds(i).toString());
            out.add(Map.entry(e.get("tenant_id").asText() + ":" + conv, Json.toBytes(e)));
        }
        return out;
    }

    /** The naive baseline: one message at a time, its agents called one after another. */
    private Map<String, Object> syncBaseline(List<String> lines, Configuration conf, long lat)
            throws Exception {
        int n =
                s.local()
                        ? s.messages()
                        : (int)
                                Math.max(
                                        5, Math.min(s.messages(), 15_000 / Math.max(1, 2.1 * lat)));
        List<Map.Entry<String, byte[]>> events =
                events("sync", lines, n, Math.max(1, (int) Math.round(n / 2.3)));
        List<AgentSpec> agents = AgentProviders.specs(conf);
        Map<String, List<TranscriptEntry>> transcripts = new HashMap<>();
        Map<String, Map<String, Long>> lastRun = new HashMap<>();
        int calls = 0;
        long start = System.nanoTime();
        try (AgentProvider provider =
                s.local()
                        ? new io.signalstream.agents.local.LocalAgentProvider(1)
                        : new OpenAiProvider(ProviderSettings.from(conf, "openai"))) {
            for (Map.Entry<String, byte[]> e : events) {
                JsonNode m = Json.MAPPER.readTree(e.getValue());
                ChatMessage msg =
                        new ChatMessage(
                                m.get("message_id").asText(),
                                m.get("tenant_id").asText(),
                                m.get("conversation_id").asText(),
                                m.get("sender").asText(),
                                m.get("message").asText(),
                                "bench",
                                Instant.parse(m.get("timestamp").asText()),
                                Map.of(),
                                new SourceRef("sync", 0, 0));
                List<TranscriptEntry> t =
                        transcripts.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
                Instant previous = t.isEmpty() ? null : t.get(t.size() - 1).timestamp();
                t.add(TranscriptEntry.of(msg));
                long version = t.size();
                ConversationSnapshot snap =
                        new ConversationSnapshot(
                                msg.tenantId(),
                                msg.conversationId(),
                                version,
                                version,
                                TranscriptEntry.of(msg),
                                t,
                                t.get(0).timestamp(),
                                msg.timestamp(),
                                List.of(),
                                msg.source());
                Map<String, Long> runs = lastRun.computeIfAbsent(e.getKey(), k -> new HashMap<>());
                for (AgentSpec a : agents) {
                    if (a.trigger()
                            .fires(msg, version, runs.getOrDefault(a.name(), 0L), previous)) {
                        runs.put(a.name(), version);
                        provider.analyze(a.name(), snap).get(2, TimeUnit.MINUTES);
                        calls++;
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("messages", n);
        r.put("llm_calls", calls);
        r.put("elapsed_s", round(seconds));
        r.put("msgs_per_s", round(n / seconds));
        out.printf(
                "  %-22s %5d msgs  %7.2f msg/s  (%d LLM calls, one at a time)%n",
                "sync baseline", n, n / seconds, calls);
        return r;
    }

    private static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** Samples the heap used, every 100 ms, until stopped. */
    private static final class HeapSampler {
        private final AtomicLong max = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        HeapSampler() {
            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            thread =
                    new Thread(
                            () -> {
                                while (running.get()) {
                                    max.accumulateAndGet(
                                            mem.getHeapMemoryUsage().getUsed(), Math::max);
                                    try {
                                        Thread.sleep(100);
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                }
                            },
                            "bench-heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(1000);
        }

        long maxMb() {
            return max.get() / (1024 * 1024);
        }
    }

    /**
     * A read_committed consumer of the aggregated and agent topics: when each expected message
     * became visible (its version's aggregated record), and the agents' mean latency.
     */
    private static final class Probe implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Map<String, Long> visibleAt = new HashMap<>();
        private java.util.Set<String> expected = java.util.Set.of();
        private long latencySum;
        private long latencyCount;

        Probe(String bootstrap) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            consumer =
                    new KafkaConsumer<>(
                            p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> parts = new ArrayList<>();
            for (String topic :
                    List.of(
                            "support.ai.aggregated",
                            "support.ai.pii",
                            "support.ai.sentiment",
                            "support.ai.insights",
                            "support.ai.summary")) {
                consumer.partitionsFor(topic, Duration.ofSeconds(30))
                        .forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
            }
            consumer.assign(parts);
            consumer.seekToEnd(parts);
            parts.forEach(consumer::position);
        }

        void expect(List<Map.Entry<String, byte[]>> events) throws Exception {
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (var e : events) {
                ids.add(Json.MAPPER.readTree(e.getValue()).get("message_id").asText());
            }
            expected = ids;
            visibleAt.clear();
            latencySum = 0;
            latencyCount = 0;
        }

        Map<String, Long> awaitAll(Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (visibleAt.size() < expected.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    JsonNode v = Json.MAPPER.readTree(r.value());
                    if (r.topic().equals("support.ai.aggregated")) {
                        JsonNode ids = v.get("source_message_ids");
                        String id = ids.get(ids.size() - 1).asText();
                        if (expected.contains(id)) {
                            visibleAt.putIfAbsent(id, now);
                        }
                    } else if (expected.contains(v.path("message_id").asText())) {
                        latencySum += v.path("latency_ms").asLong();
                        latencyCount++;
                    }
                }
            }
            if (visibleAt.size() < expected.size()) {
                throw new IllegalStateException(
                        "only "
                                + visibleAt.size()
                                + " of "
                                + expected.size()
                                + " messages became visible");
            }
            return new HashMap<>(visibleAt);
        }

        double meanAgentLatencyMs() {
            return latencyCount == 0 ? 0 : (double) latencySum / latencyCount;
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}

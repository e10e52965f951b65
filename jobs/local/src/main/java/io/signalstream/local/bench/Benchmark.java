package io.signalstream.local.bench;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.ProviderStats;
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
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import org.apache.kafka.clients.admin.NewTopic;
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
 *
 * <p>Then the backlog runs (unless {@code backlog} is 0): {@code backlog} messages are already in a
 * fresh input topic when a fresh job starts, as after a start or a restore with a backlog:
 *
 * <ul>
 *   <li>{@code ceiling}: the platform ceiling, {@link CeilingJob} (Kafka → keyBy → map → Kafka,
 *       exactly-once, same broker, checkpoint settings and messages);
 *   <li>{@code backlog-local}: the real job on the local provider;
 *   <li>{@code backlog-llm}: the real job on the loopback LLM.
 * </ul>
 *
 * Each reports the time from job submission to the first aggregated record visible to a
 * read_committed consumer ({@code first_visible_s}), the drain rate, the durations of the
 * checkpoints completed meanwhile (from the MiniCluster's REST API), and the process CPU time (job,
 * in-process broker and loopback server together) per message and, for the LLM, per LLM request
 * with the fraction of the provider's in-flight bound kept busy (Little's law over the time the
 * server was answering). A fresh job's first seconds are largely JIT compilation, so the job's
 * backlog runs also report the CPU of the JIT compiler threads ({@code jit_cpu_ms}), and the LLM
 * run the CPU per request without it and over the second half of its requests ({@code
 * cpu_ms_per_llm_request_steady}, with and without the JIT).
 */
public final class Benchmark {

    /** Parallelism of every job of the benchmark. */
    static final int PARALLELISM = 2;

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
     * @param backlog messages waiting in the input topic for the backlog runs (ceiling, local,
     *     LLM); 0 skips them
     * @param overrides Flink and job options applied last to every job of the run (e.g. to measure
     *     another checkpoint configuration)
     */
    public record Settings(
            int messages,
            long llmLatencyMs,
            double baseRate,
            int capacity,
            Path workDir,
            String provider,
            int backlog,
            Map<String, String> overrides) {

        /** Messages waiting in the input topic when a backlog run starts its job. */
        public static final int DEFAULT_BACKLOG = 5000;

        /** Settings with the {@code openai} provider against the loopback server. */
        public Settings(
                int messages, long llmLatencyMs, double baseRate, int capacity, Path workDir) {
            this(messages, llmLatencyMs, baseRate, capacity, workDir, "openai");
        }

        /** Settings with the default backlog and no configuration overrides. */
        public Settings(
                int messages,
                long llmLatencyMs,
                double baseRate,
                int capacity,
                Path workDir,
                String provider) {
            this(
                    messages,
                    llmLatencyMs,
                    baseRate,
                    capacity,
                    workDir,
                    provider,
                    DEFAULT_BACKLOG,
                    Map.of());
        }

        boolean local() {
            return "local".equals(provider);
        }
    }

    private final Settings s;
    private final PrintStream out;
    private final AtomicLong serverDelayMs = new AtomicLong();
    private final AtomicLong serverReplies = new AtomicLong();
    private final AtomicLong firstRequestAt = new AtomicLong();
    private final AtomicLong lastAnswerAt = new AtomicLong();

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
                    long now = System.nanoTime();
                    firstRequestAt.compareAndSet(0, now);
                    lastAnswerAt.accumulateAndGet(now + d * 1_000_000, Math::max);
                    serverDelayMs.addAndGet(d);
                    serverReplies.incrementAndGet();
                    return answers.respond(req).withDelay(d);
                };
        Map<String, Object> report = new LinkedHashMap<>();
        List<Map<String, Object>> runs = new ArrayList<>();
        try (LoopbackLlmServer llm = LoopbackLlmServer.start(delayed);
                EmbeddedKafkaBroker broker =
                        EmbeddedKafkaBroker.start(s.workDir().resolve("kafka"))) {
            Configuration conf = jobConf(broker, llm, s.provider(), "bench");
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
            Map<String, Object> backlog =
                    s.backlog() > 0 ? backlogRuns(lines, broker, llm) : Map.of();
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
            report.put("async_capacity_per_subtask", conf.get(AgentOptions.CAPACITY));
            report.putAll(backlog);
            report.put("runs", runs);
        }
        return report;
    }

    /**
     * The configuration of a job of this benchmark: the local runtime's, all agents on one
     * provider, the loopback LLM, the async capacity sized by Little's law, then the overrides.
     */
    private Configuration jobConf(
            EmbeddedKafkaBroker broker, LoopbackLlmServer llm, String provider, String name) {
        Configuration conf =
                LocalFlinkConfig.withLocalDefaults(new Configuration(), s.workDir(), PARALLELISM);
        conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(JobOptions.GROUP_ID, name);
        conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, name);
        for (String agent : AgentOptions.BUILT_IN_AGENTS) {
            conf.set(AgentOptions.provider(agent), provider);
        }
        conf.set(ProviderOptions.baseUrl("openai"), llm.baseUrl());
        conf.set(ProviderOptions.model("openai"), "loopback");
        conf.set(ProviderOptions.maxInFlight("openai"), s.capacity());
        conf.set(ProviderOptions.cacheSize("openai"), 0);
        conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(120));
        conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(150));
        // The checkpoint history of the REST API, read by CheckpointWatcher.
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);
        conf.addAll(Configuration.fromMap(s.overrides()));
        if (!s.overrides().containsKey(AgentOptions.CAPACITY.key())) {
            int operators =
                    ConversationIntelligenceJob.agentOperators(AgentProviders.specs(conf), conf)
                            .size();
            conf.set(AgentOptions.CAPACITY, asyncCapacity(s.capacity(), operators));
        }
        return conf;
    }

    /**
     * Async capacity per agent operator subtask, by Little's law. The provider keeps at most {@code
     * bound} requests in flight per TaskManager (bound = request rate × answer time at saturation),
     * shared by every agent operator subtask (one per agent, or one per provider whose agents share
     * requests: {@link ConversationIntelligenceJob#agentOperators}); each subtask gets twice its
     * even share (the operators' request rates differ: the agents on customer messages run on half
     * the messages, summary on every third), at least 8. More queued elements would not make the
     * LLM answer faster: they only wait for a permit, hold their snapshot in the async operator's
     * checkpointed queue and add latency.
     */
    static int asyncCapacity(int bound, int agentOperators) {
        int subtasks = agentOperators * PARALLELISM;
        return Math.max(8, (int) Math.ceil(2.0 * bound / subtasks));
    }

    /**
     * The backlog runs: a backlog of {@code s.backlog()} messages is already in a fresh input topic
     * when the job starts; the platform ceiling, the real job on the local provider, the real job
     * on the loopback LLM.
     */
    private Map<String, Object> backlogRuns(
            List<String> lines, EmbeddedKafkaBroker broker, LoopbackLlmServer llm)
            throws Exception {
        Map<String, Object> ceiling = ceilingRun(lines, broker);
        Map<String, Object> local = backlogRun("backlog-local", "local", lines, broker, llm);
        Map<String, Object> remote = backlogRun("backlog-llm", "openai", lines, broker, llm);
        double ceil = (double) ceiling.get("throughput_msgs_per_s");
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("backlog_messages", s.backlog());
        r.put("ceiling_msgs_per_s", ceil);
        r.put(
                "ratio_to_ceiling",
                round((double) local.get("throughput_msgs_per_s") / Math.max(1e-9, ceil)));
        Map<String, Object> first = new LinkedHashMap<>();
        first.put("ceiling", ceiling.get("first_visible_s"));
        first.put("local", local.get("first_visible_s"));
        first.put("llm", remote.get("first_visible_s"));
        r.put("first_visible_s", first);
        Map<String, Object> ckp = new LinkedHashMap<>();
        ckp.put("ceiling", ceiling.get("checkpoints"));
        ckp.put("local", local.get("checkpoints"));
        ckp.put("llm", remote.get("checkpoints"));
        r.put("checkpoint_ms", ckp);
        r.put("cpu_ms_per_llm_request", remote.get("cpu_ms_per_llm_request"));
        r.put(
                "cpu_ms_per_llm_request_without_server",
                remote.get("cpu_ms_per_llm_request_without_server"));
        r.put(
                "cpu_ms_per_llm_request_without_jit",
                remote.get("cpu_ms_per_llm_request_without_jit"));
        r.put("cpu_ms_per_llm_request_steady", remote.get("cpu_ms_per_llm_request_steady"));
        r.put("llm_busy_fraction", remote.get("llm_busy_fraction"));
        r.put("backlog_runs", List.of(ceiling, local, remote));
        return r;
    }

    /** CPU time of the JIT compiler threads, for the backlog runs. */
    private final JitCpu jit = new JitCpu();

    /**
     * CPU time of HotSpot's JIT compiler threads ({@code C1/C2 CompilerThread*}), read from {@code
     * /proc/self/task} (Linux; the JVM's management beans hide these threads and report compilation
     * as elapsed time, not CPU). Compiler threads are looked up again at most once a second; a
     * thread that ends keeps the CPU last read. 0 where {@code /proc} is not readable.
     */
    static final class JitCpu {
        private static final Path TASKS = Path.of("/proc/self/task");
        private final Map<String, Long> ticks = new HashMap<>();
        private long scannedAt;

        /** Milliseconds of CPU the compiler threads used so far (10 ms resolution). */
        synchronized long millis() {
            if (!java.nio.file.Files.isDirectory(TASKS)) {
                return 0;
            }
            long now = System.nanoTime();
            if (ticks.isEmpty() || now - scannedAt > 1_000_000_000L) {
                scannedAt = now;
                try (var dirs = java.nio.file.Files.list(TASKS)) {
                    dirs.forEach(
                            d -> {
                                String name = read(d.resolve("comm"));
                                if (name != null && name.contains("CompilerThre")) {
                                    ticks.putIfAbsent(d.getFileName().toString(), 0L);
                                }
                            });
                } catch (java.io.IOException | java.io.UncheckedIOException e) {
                    return 0;
                }
            }
            long sum = 0;
            for (Map.Entry<String, Long> e : ticks.entrySet()) {
                String stat = read(TASKS.resolve(e.getKey()).resolve("stat"));
                if (stat != null) {
                    // fields after "(comm) ": state is field 3, utime 14, stime 15
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    e.setValue(
                            Math.max(e.getValue(), Long.parseLong(f[11]) + Long.parseLong(f[12])));
                }
                sum += e.getValue();
            }
            return sum * 10; // clock ticks of 10 ms (USER_HZ 100)
        }

        private static String read(Path p) {
            try {
                return java.nio.file.Files.readString(p).strip();
            } catch (java.io.IOException | RuntimeException e) {
                return null; // the thread ended
            }
        }
    }

    /**
     * Samples process CPU time, JIT CPU time and LLM requests every 100 ms during a backlog run,
     * for the CPU per request of its second half (the job started, its code compiled, the backlog
     * still saturating the LLM path).
     */
    private static final class CpuSampler implements AutoCloseable {
        private final List<long[]> samples =
                java.util.Collections.synchronizedList(new ArrayList<>());
        private final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "bench-cpu-sampler");
                            t.setDaemon(true);
                            return t;
                        });

        CpuSampler(OperatingSystemMXBean os, LoopbackLlmServer llm, JitCpu jit) {
            timer.scheduleAtFixedRate(
                    () ->
                            samples.add(
                                    new long[] {
                                        os.getProcessCpuTime(), jit.millis(), llm.requestCount()
                                    }),
                    0,
                    100,
                    TimeUnit.MILLISECONDS);
        }

        /**
         * CPU ms per request between the samples where half and all of the run's requests had
         * arrived at the server: {whole process, without JIT}; null with too few samples.
         */
        double[] steady(int requestsBefore, int requests) {
            long[] half = null;
            long[] all = null;
            synchronized (samples) {
                for (long[] x : samples) {
                    long made = x[2] - requestsBefore;
                    if (half == null && made >= requests / 2) {
                        half = x;
                    }
                    if (all == null && made >= requests) {
                        all = x;
                    }
                }
            }
            if (half == null || all == null || all[2] <= half[2]) {
                return null;
            }
            double n = all[2] - half[2];
            double cpuMs = (all[0] - half[0]) / 1e6;
            return new double[] {cpuMs / n, (cpuMs - (all[1] - half[1])) / n};
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    /** Threads of the loopback LLM server (its workers and the JDK HTTP server's dispatcher). */
    private static boolean isLlmServerThread(String name) {
        return name.startsWith("loopback-llm-") || name.equals("HTTP-Dispatcher");
    }

    /** CPU time in nanoseconds of the live threads whose name matches, by thread id. */
    private static Map<Long, Long> threadCpuNanos(java.util.function.Predicate<String> name) {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Long> out = new java.util.HashMap<>();
        for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null && name.test(t.getThreadName())) {
                long cpu = mx.getThreadCpuTime(t.getThreadId());
                if (cpu >= 0) {
                    out.put(t.getThreadId(), cpu);
                }
            }
        }
        return out;
    }

    /** CPU spent between two snapshots (threads started in between count from zero). */
    private static long cpuDeltaNanos(Map<Long, Long> before, Map<Long, Long> after) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
        }
        return sum;
    }

    /** The real job started on a backlog: first visible output, drain rate, checkpoints, CPU. */
    private Map<String, Object> backlogRun(
            String name,
            String provider,
            List<String> lines,
            EmbeddedKafkaBroker broker,
            LoopbackLlmServer llm)
            throws Exception {
        String topic = "bench." + name + ".raw";
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                List.of(new NewTopic(topic, 4, (short) 1)));
        int n = s.backlog();
        List<Map.Entry<String, byte[]>> events =
                events(name, lines, n, Math.max(1, (int) Math.round(n / 2.3)));
        ConversationReplayer.produce(
                broker.bootstrapServers(), new Properties(), topic, events, 0, sent -> {});
        Configuration conf = jobConf(broker, llm, provider, "bench-" + name);
        conf.set(JobOptions.TOPIC_INPUT, topic);
        int restPort = watchable(conf);
        OperatingSystemMXBean os =
                (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (Probe probe = new Probe(broker.bootstrapServers())) {
            probe.expect(events);
            int requestsBefore = llm.requestCount();
            long delayBefore = serverDelayMs.get();
            firstRequestAt.set(0);
            lastAnswerAt.set(0);
            long cpuBefore = os.getProcessCpuTime();
            long jitBefore = jit.millis();
            Map<Long, Long> serverCpuBefore = threadCpuNanos(Benchmark::isLlmServerThread);
            CpuSampler sampler = new CpuSampler(os, llm, jit);
            long start = System.nanoTime();
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .executeAsync(
                                    StreamExecutionEnvironment.getExecutionEnvironment(conf),
                                    "signalstream-bench-" + name);
            CheckpointWatcher checkpoints =
                    new CheckpointWatcher(restPort, job.getJobID().toString());
            Map<String, Long> visibleAt;
            try {
                visibleAt = probe.awaitAll(Duration.ofMinutes(10));
            } finally {
                sampler.close();
                checkpoints.close();
                job.cancel().get(60, TimeUnit.SECONDS);
            }
            long cpuMs = (os.getProcessCpuTime() - cpuBefore) / 1_000_000;
            long jitMs = jit.millis() - jitBefore;
            long serverCpuMs =
                    cpuDeltaNanos(serverCpuBefore, threadCpuNanos(Benchmark::isLlmServerThread))
                            / 1_000_000;
            int requests = llm.requestCount() - requestsBefore;
            long first = visibleAt.values().stream().mapToLong(Long::longValue).min().orElse(0);
            long last = visibleAt.values().stream().mapToLong(Long::longValue).max().orElse(0);
            double drain = (last - start) / 1e9;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("run", name);
            r.put("provider", provider);
            r.put("messages", n);
            r.put("visible", visibleAt.size());
            r.put("first_visible_s", round((first - start) / 1e9));
            r.put("drain_s", round(drain));
            r.put("throughput_msgs_per_s", round(n / drain));
            r.put("checkpoints", checkpointStats(checkpoints));
            r.put("cpu_ms", cpuMs);
            r.put("cpu_ms_per_message", round((double) cpuMs / n));
            r.put("jit_cpu_ms", jitMs);
            r.put("llm_requests", requests);
            if (provider.equals("openai")) {
                double window = (lastAnswerAt.get() - firstRequestAt.get()) / 1e9;
                double inFlight = (serverDelayMs.get() - delayBefore) / 1000.0 / window;
                r.put("llm_latency_ms", s.llmLatencyMs());
                r.put("cpu_ms_per_llm_request", round((double) cpuMs / Math.max(1, requests)));
                r.put("llm_server_cpu_ms", serverCpuMs);
                r.put(
                        "cpu_ms_per_llm_request_without_server",
                        round((double) (cpuMs - serverCpuMs) / Math.max(1, requests)));
                r.put(
                        "cpu_ms_per_llm_request_without_jit",
                        round((double) (cpuMs - jitMs) / Math.max(1, requests)));
                double[] steady = sampler.steady(requestsBefore, requests);
                if (steady != null) {
                    r.put("cpu_ms_per_llm_request_steady", round(steady[0]));
                    r.put("cpu_ms_per_llm_request_steady_without_jit", round(steady[1]));
                }
                r.put("llm_in_flight_avg", round(inFlight));
                r.put("llm_busy_fraction", round(Math.min(1.0, inFlight / s.capacity())));
            }
            printBacklog(r);
            return r;
        }
    }

    /** The platform ceiling on the same backlog: see {@link CeilingJob}. */
    private Map<String, Object> ceilingRun(List<String> lines, EmbeddedKafkaBroker broker)
            throws Exception {
        String in = "bench.ceiling.raw";
        String outTopic = "bench.ceiling.out";
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                List.of(new NewTopic(in, 4, (short) 1), new NewTopic(outTopic, 4, (short) 1)));
        int n = s.backlog();
        List<Map.Entry<String, byte[]>> events =
                events("ceiling", lines, n, Math.max(1, (int) Math.round(n / 2.3)));
        ConversationReplayer.produce(
                broker.bootstrapServers(), new Properties(), in, events, 0, sent -> {});
        Configuration conf =
                LocalFlinkConfig.withLocalDefaults(new Configuration(), s.workDir(), PARALLELISM);
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);
        conf.addAll(Configuration.fromMap(s.overrides()));
        int restPort = watchable(conf);
        OperatingSystemMXBean os =
                (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(outTopic, Duration.ofSeconds(30))
                    .forEach(pi -> parts.add(new TopicPartition(outTopic, pi.partition())));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long cpuBefore = os.getProcessCpuTime();
            long start = System.nanoTime();
            JobClient job =
                    CeilingJob.start(
                            conf, broker.bootstrapServers(), in, outTopic, "bench-ceiling");
            CheckpointWatcher checkpoints =
                    new CheckpointWatcher(restPort, job.getJobID().toString());
            long first = 0;
            long last = 0;
            int seen = 0;
            try {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
                while (seen < n && System.nanoTime() < deadline) {
                    int got = consumer.poll(Duration.ofMillis(50)).count();
                    if (got > 0) {
                        last = System.nanoTime();
                        first = first == 0 ? last : first;
                        seen += got;
                    }
                }
            } finally {
                checkpoints.close();
                job.cancel().get(60, TimeUnit.SECONDS);
            }
            if (seen < n) {
                throw new IllegalStateException(
                        "ceiling job: only " + seen + " of " + n + " messages became visible");
            }
            long cpuMs = (os.getProcessCpuTime() - cpuBefore) / 1_000_000;
            double drain = (last - start) / 1e9;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("run", "ceiling");
            r.put("provider", "none (Kafka → keyBy → map → Kafka, exactly-once)");
            r.put("messages", n);
            r.put("visible", seen);
            r.put("first_visible_s", round((first - start) / 1e9));
            r.put("drain_s", round(drain));
            r.put("throughput_msgs_per_s", round(n / drain));
            r.put("checkpoints", checkpointStats(checkpoints));
            r.put("cpu_ms", cpuMs);
            r.put("cpu_ms_per_message", round((double) cpuMs / n));
            printBacklog(r);
            return r;
        }
    }

    private static Map<String, Object> checkpointStats(CheckpointWatcher w) {
        long[] d = w.durations().values().stream().mapToLong(Long::longValue).sorted().toArray();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("completed", d.length);
        c.put("failed", w.failed());
        c.put("unaligned", w.types().values().stream().filter("unaligned"::equals).count());
        c.put("p50", percentile(d, 0.50));
        c.put("p99", percentile(d, 0.99));
        c.put("max", d.length == 0 ? 0 : d[d.length - 1]);
        c.put("first", w.durations().values().stream().findFirst().orElse(0L));
        return c;
    }

    @SuppressWarnings("unchecked")
    private void printBacklog(Map<String, Object> r) {
        Map<String, Object> c = (Map<String, Object>) r.get("checkpoints");
        out.printf(
                "  %-22s %5d msgs  %7.1f msg/s  first visible %6.2f s  checkpoints %d (%d"
                        + " unaligned) p50 %d ms p99 %d ms first %d ms  CPU %.2f ms/msg%s%n",
                r.get("run"),
                (int) r.get("messages"),
                (double) r.get("throughput_msgs_per_s"),
                (double) r.get("first_visible_s"),
                (int) c.get("completed"),
                (long) c.get("unaligned"),
                (long) c.get("p50"),
                (long) c.get("p99"),
                (long) c.get("first"),
                (double) r.get("cpu_ms_per_message"),
                r.containsKey("cpu_ms_per_llm_request")
                        ? String.format(
                                "  %.2f CPU ms/LLM req (%.2f without JIT, second half %s)  busy"
                                        + " %.2f",
                                (double) r.get("cpu_ms_per_llm_request"),
                                (double) r.get("cpu_ms_per_llm_request_without_jit"),
                                r.get("cpu_ms_per_llm_request_steady"),
                                (double) r.get("llm_busy_fraction"))
                        : "");
    }

    /**
     * Makes the job's checkpoint statistics readable by {@link CheckpointWatcher}: the REST API on
     * a free port, a long history, and statistics no older than 100 ms (the REST cache keeps them
     * for web.refresh-interval, 3 s, by default).
     *
     * @return the REST port
     */
    private static int watchable(Configuration conf) throws java.io.IOException {
        int port = freePort();
        conf.set(RestOptions.BIND_PORT, String.valueOf(port));
        conf.set(RestOptions.CACHE_CHECKPOINT_STATISTICS_TIMEOUT, Duration.ofMillis(100));
        conf.set(WebOptions.REFRESH_INTERVAL, Duration.ofMillis(100));
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);
        return port;
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
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
        long promptTokensBefore = ProviderStats.of("openai").promptTokens.get();
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
        // The names for the same figure and the prompt tokens it costs (the provider's
        // reported usage: the loopback server reports the request body's characters / 4).
        r.put("llm_requests_per_msg", round((double) requests / n));
        r.put(
                "prompt_tokens_per_msg",
                round(
                        (double)
                                        (ProviderStats.of("openai").promptTokens.get()
                                                - promptTokensBefore)
                                / n));
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

package io.signalstream.jobs;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.events.ConversationKeys;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.signalstream.jobs.RunJobProcess.completedCheckpoints;
import static io.signalstream.jobs.RunJobProcess.latestCheckpoint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * "No LLM call paid twice": the real {@code run} command in its own JVM, all agents on the {@code
 * openai} provider against an OpenAI-compatible loopback server on 127.0.0.1 that answers every
 * request after {@value #LLM_DELAY_MS} ms and counts it. The same {@value #MESSAGES} real messages
 * go through a run without faults and through a run whose JVM is SIGKILLed twice mid-stream and
 * restarted from its latest retained checkpoint; each run has its own broker, server and
 * conversation ids, so they share nothing. The killed run may pay for at most 5% more requests than
 * the run without faults (before the durable response log, a kill re-paid every answer since the
 * last checkpoint: +38% with two kills), and its output is still exactly-once and complete.
 */
class LlmResponseLogKillITCase {

    static final int MESSAGES = 600;
    static final int LLM_DELAY_MS = 100;

    /**
     * Input pace of the killed run: slow enough that input is still arriving at both kills (a
     * {@code run} JVM takes ~10 s to start and restore). The run without faults gets the same
     * messages faster; the pace does not change what is asked.
     */
    static final double KILLED_MESSAGES_PER_SECOND = 15;

    static final double CLEAN_MESSAGES_PER_SECOND = 60;

    /** Messages past a kill's share that may be produced before the kill is made. */
    static final int HOLD_MARGIN = 90;

    @TempDir Path tmp;

    /** What a run cost and produced. */
    record Run(
            int requests,
            long inputHeldMs,
            List<Integer> killedAt,
            List<Long> repaidLeadMs,
            List<String> warmUps) {}

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void killedTwiceThePaidRequestsStayWithinFivePercent() throws Exception {
        List<String> lines = ConversationReplayer.readLines(null);
        Run clean = run("clean", lines, 0);
        Run killed = run("killed", lines, 2);
        double ratio = (double) killed.requests() / clean.requests();
        System.out.printf(
                "llm response log: %d messages, LLM %d ms; requests without faults %d, with 2 x"
                        + " SIGKILL %d (x%.3f), killed at request %s; %d prompts asked twice, first"
                        + " sent this many ms before the kill: %s; warm-ups after the kills: %s;"
                        + " input held back %d ms for the kills%n",
                MESSAGES,
                LLM_DELAY_MS,
                clean.requests(),
                killed.requests(),
                ratio,
                killed.killedAt(),
                killed.repaidLeadMs().size(),
                killed.repaidLeadMs(),
                killed.warmUps(),
                killed.inputHeldMs());
        assertThat(clean.repaidLeadMs()).as("prompts asked twice without faults").isEmpty();
        // Both restarted JVMs warmed their cache from the log before calling the provider.
        assertThat(killed.warmUps()).hasSize(2);
        assertThat(killed.requests())
                .isLessThanOrEqualTo((int) Math.floor(1.05 * clean.requests()));
    }

    /**
     * One run on its own broker and server: the messages with conversation ids suffixed by {@code
     * label}, the {@code run} JVM killed {@code kills} times (the k-th once k / (kills + 1) of the
     * input was produced and the run completed a checkpoint, while input is still arriving), the
     * output checked exactly-once.
     */
    private Run run(String label, List<String> lines, int kills) throws Exception {
        List<Map.Entry<String, byte[]>> events = events(lines, label);
        Set<String> expected = expectedVersions(events);
        Path dir = tmp.resolve(label);
        Path checkpoints = dir.resolve("checkpoints");
        try (LoopbackLlmServer llm = LoopbackLlmServer.start(delayed());
                EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            Configuration conf = new Configuration();
            ProviderOptions.useForAllAgents(
                    conf, "openai", llm.baseUrl(), "loopback", Duration.ofSeconds(60));
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 3, (short) 1));
            AtomicInteger produced = new AtomicInteger();
            AtomicInteger killsDone = new AtomicInteger();
            AtomicLong heldMs = new AtomicLong();
            CompletableFuture<?> producing =
                    CompletableFuture.runAsync(
                            () -> {
                                try {
                                    ConversationReplayer.produce(
                                            broker.bootstrapServers(),
                                            new Properties(),
                                            conf.get(JobOptions.TOPIC_INPUT),
                                            events,
                                            kills == 0
                                                    ? CLEAN_MESSAGES_PER_SECOND
                                                    : KILLED_MESSAGES_PER_SECOND,
                                            n -> {
                                                produced.set(n);
                                                holdForKill(n, kills, killsDone, heldMs);
                                            });
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });
            List<Path> logs = new ArrayList<>();
            List<Integer> killedAt = new ArrayList<>();
            List<Instant> killInstants = new ArrayList<>();
            Process job = start(broker.bootstrapServers(), llm.baseUrl(), dir, null, 0, logs);
            try {
                for (int kill = 1; kill <= kills; kill++) {
                    // Mid-stream: this kill's share of the input is produced and the run has
                    // completed two checkpoints since it started (as ProcessKillITCase).
                    int before = completedCheckpoints(checkpoints);
                    long target = (long) MESSAGES * kill / (kills + 1);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while ((produced.get() < target
                                    || completedCheckpoints(checkpoints) < before + 2)
                            && System.nanoTime() < deadline) {
                        assertThat(job.isAlive()).as("run alive (see %s)", logs).isTrue();
                        Thread.sleep(50);
                    }
                    assertThat(producing.isDone())
                            .as("input still arriving at kill %d (mid-stream)", kill)
                            .isFalse();
                    killInstants.add(Instant.now());
                    killedAt.add(llm.requestCount());
                    job.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    killsDone.incrementAndGet();
                    String restore = latestCheckpoint(checkpoints).orElseThrow().toUri().toString();
                    job = start(broker.bootstrapServers(), llm.baseUrl(), dir, restore, kill, logs);
                }
                producing.get(2, TimeUnit.MINUTES);
                Map<String, List<JsonNode>> out =
                        KafkaOutputs.readCommitted(
                                broker.bootstrapServers(),
                                List.of("support.ai.aggregated", "support.lineage"),
                                got ->
                                        got.get("support.ai.aggregated").size() >= expected.size()
                                                && got.get("support.lineage").size()
                                                        >= expected.size(),
                                Duration.ofMinutes(3));
                assertExactlyOnce(out, expected);
                // Every answer is in: all agents of the last version answered before its output.
                int requests = llm.requestCount();
                // A prompt asked again after a kill: how long before the kill it was first sent.
                Map<String, Instant> first = new HashMap<>();
                List<Long> repaidLeadMs = new ArrayList<>();
                for (LoopbackLlmServer.RecordedRequest r : llm.requests()) {
                    Instant f = first.putIfAbsent(r.body(), r.receivedAt());
                    if (f != null) {
                        repaidLeadMs.add(
                                killInstants.stream()
                                        .filter(i -> i.isAfter(f))
                                        .findFirst()
                                        .map(k -> Duration.between(f, k).toMillis())
                                        .orElse(-1L));
                    }
                }
                repaidLeadMs.sort(null);
                // About one combined request per customer message (half the messages).
                assertThat(requests).as("requests of run %s", label).isGreaterThan(MESSAGES / 3);
                return new Run(requests, heldMs.get(), killedAt, repaidLeadMs, warmUps(logs));
            } finally {
                job.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Keeps input for after each kill: once the k-th kill's share plus {@value #HOLD_MARGIN}
     * messages are produced, waits until the k-th kill was made (so a slow machine cannot let the
     * input run out before a kill; on a normal one the kill comes first and nothing is held).
     */
    private static void holdForKill(
            int produced, int kills, AtomicInteger killsDone, AtomicLong heldMs) {
        for (int k = 1; k <= kills; k++) {
            long holdAt = (long) MESSAGES * k / (kills + 1) + HOLD_MARGIN;
            long start = System.nanoTime();
            while (produced >= holdAt
                    && killsDone.get() < k
                    && System.nanoTime() - start < TimeUnit.MINUTES.toNanos(2)) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            heldMs.addAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
    }

    /** Answers every request with a schema-valid answer after {@value #LLM_DELAY_MS} ms. */
    private static LoopbackLlmServer.Responder delayed() {
        LoopbackLlmServer.Responder answers = LoopbackLlmServer.schemaAnswers();
        return req -> answers.respond(req).withDelay(LLM_DELAY_MS);
    }

    /** The first {@value #MESSAGES} events, conversation ids suffixed with {@code label}. */
    private static List<Map.Entry<String, byte[]>> events(List<String> lines, String label)
            throws IOException {
        List<Map.Entry<String, byte[]>> out = new ArrayList<>();
        for (Map.Entry<String, byte[]> e :
                ConversationReplayer.toEvents(lines).subList(0, MESSAGES)) {
            ObjectNode n = (ObjectNode) Json.MAPPER.readTree(e.getValue());
            n.put("conversation_id", n.get("conversation_id").asText() + "-" + label);
            out.add(
                    Map.entry(
                            ConversationKeys.of(
                                    n.get("tenant_id").asText(), n.get("conversation_id").asText()),
                            Json.MAPPER.writeValueAsString(n).getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** Every (tenant:conversation#version) of the events, worked out from the events alone. */
    private static Set<String> expectedVersions(List<Map.Entry<String, byte[]>> events)
            throws IOException {
        Set<String> expected = new HashSet<>();
        Map<String, Integer> counts = new HashMap<>();
        for (Map.Entry<String, byte[]> e : events) {
            JsonNode n = Json.MAPPER.readTree(e.getValue());
            String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
            expected.add(key + "#" + counts.merge(key, 1, Integer::sum));
        }
        return expected;
    }

    private static void assertExactlyOnce(Map<String, List<JsonNode>> out, Set<String> expected) {
        List<String> aggregated = new ArrayList<>();
        out.get("support.ai.aggregated").forEach(a -> aggregated.add(RealData.versionId(a)));
        assertThat(aggregated).as("aggregated duplicates").doesNotHaveDuplicates();
        assertThat(new HashSet<>(aggregated)).as("aggregated versions").isEqualTo(expected);
        List<String> lineage = new ArrayList<>();
        for (JsonNode l : out.get("support.lineage")) {
            JsonNode o = l.at("/data/output");
            lineage.add(o.get("key").asText() + "#" + o.get("version").asLong());
        }
        assertThat(lineage).as("lineage duplicates").doesNotHaveDuplicates();
        assertThat(new HashSet<>(lineage)).as("lineage outputs").isEqualTo(expected);
        for (JsonNode a : out.get("support.ai.aggregated")) {
            assertThat(a.get("complete").asBoolean())
                    .as("all agents answered %s", RealData.versionId(a))
                    .isTrue();
        }
    }

    private static final Pattern WARMED =
            Pattern.compile(
                    "response cache warmed from \\S+: (\\d+) answers loaded.* in (\\d+) ms");

    /** "N answers in M ms" of every warm-up the runs logged, restarted runs only. */
    private static List<String> warmUps(List<Path> logs) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path log : logs.subList(1, logs.size())) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                Matcher m = WARMED.matcher(line);
                if (m.find()) {
                    out.add(m.group(1) + " answers in " + m.group(2) + " ms");
                }
            }
        }
        return out;
    }

    private static Process start(
            String bootstrap,
            String llmBaseUrl,
            Path dir,
            String restoreFrom,
            int n,
            List<Path> logs)
            throws IOException {
        Path log = dir.resolve("run-" + n + ".log");
        logs.add(log);
        return RunJobProcess.start(
                bootstrap,
                "llm-kill-test-" + n,
                "llm-kill-test",
                dir.resolve("checkpoints"),
                restoreFrom,
                log,
                List.of(
                        "--provider",
                        "openai",
                        "--llm-base-url",
                        llmBaseUrl,
                        "--llm-model",
                        "loopback",
                        "-D",
                        AgentOptions.TIMEOUT.key() + "=60 s"));
    }
}

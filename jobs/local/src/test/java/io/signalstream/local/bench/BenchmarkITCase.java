package io.signalstream.local.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The benchmark end to end on a small workload: every run accounts for every message, and the
 * report's figures are consistent with each other. Speed is not asserted here (it is what the
 * benchmark measures and prints); only that the asynchronous job beats the synchronous baseline,
 * which holds by a wide margin at any speed.
 */
class BenchmarkITCase {

    @TempDir Path tmp;

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    @SuppressWarnings("unchecked")
    void smallRunProducesAConsistentReport() throws Exception {
        Map<String, Object> r =
                new Benchmark(
                                new Benchmark.Settings(
                                        60, 50, 30, 16, tmp, "openai", 150, Map.of()),
                                System.out)
                        .run();

        List<Map<String, Object>> runs = (List<Map<String, Object>>) r.get("runs");
        assertThat(runs)
                .extracting(x -> x.get("run"))
                .containsExactly("saturated", "1x", "4x", "16x", "1x-10x-conversations");
        for (Map<String, Object> run : runs) {
            assertThat(run.get("visible"))
                    .as("every message visible in %s", run.get("run"))
                    .isEqualTo(60);
            Map<String, Object> lat = (Map<String, Object>) run.get("latency_ms");
            assertThat((long) lat.get("p50"))
                    .isPositive()
                    .isLessThanOrEqualTo((long) lat.get("p95"));
            assertThat((long) lat.get("p95")).isLessThanOrEqualTo((long) lat.get("p99"));
            // One combined request per scheduled version at most, a repair or retry aside.
            assertThat((double) run.get("llm_requests_per_message"))
                    .isPositive()
                    .isEqualTo((double) run.get("llm_requests_per_msg"));
            assertThat((double) run.get("prompt_tokens_per_msg")).isPositive();
        }
        assertThat(runs.get(4).get("conversations"))
                .isEqualTo(10 * (int) runs.get(1).get("conversations"));
        assertThat((double) r.get("throughput_msgs_per_s")).isPositive();
        assertThat((double) r.get("little_efficiency")).isGreaterThan(0.0).isLessThanOrEqualTo(1.0);
        assertThat((double) r.get("sync_baseline_msgs_per_s")).isPositive();
        // The ratio of the two measured rates (its size is the benchmark's figure, not a test:
        // on a tiny run on a loaded machine the checkpoint interval dominates). All three are
        // rounded in the report, hence the tolerance.
        double ratio =
                (double) r.get("throughput_msgs_per_s")
                        / (double) r.get("sync_baseline_msgs_per_s");
        assertThat((double) r.get("speedup_vs_sync"))
                .isPositive()
                .isCloseTo(ratio, within(Math.max(0.02, ratio * 0.03)));
        assertThat((double) r.get("cpu_cores_used")).isPositive();
        assertThat((long) r.get("heap_mb_max")).isPositive();

        // The backlog runs: ceiling, local provider, LLM, each on a 150-message backlog.
        assertThat(r.get("backlog_messages")).isEqualTo(150);
        assertThat((double) r.get("ceiling_msgs_per_s")).isPositive();
        assertThat((double) r.get("ratio_to_ceiling")).isPositive();
        List<Map<String, Object>> backlog = (List<Map<String, Object>>) r.get("backlog_runs");
        assertThat(backlog)
                .extracting(x -> x.get("run"))
                .containsExactly("ceiling", "backlog-local", "backlog-llm");
        for (Map<String, Object> run : backlog) {
            assertThat(run.get("visible")).as("%s", run.get("run")).isEqualTo(150);
            assertThat((double) run.get("first_visible_s"))
                    .isPositive()
                    .isLessThanOrEqualTo((double) run.get("drain_s"));
            Map<String, Object> c = (Map<String, Object>) run.get("checkpoints");
            assertThat((int) c.get("completed"))
                    .as("a checkpoint completed before the output became visible")
                    .isPositive();
            assertThat((long) c.get("p50")).isLessThanOrEqualTo((long) c.get("p99"));
            assertThat((long) c.get("p99")).isLessThanOrEqualTo((long) c.get("max"));
        }
        double ratio0 =
                (double) backlog.get(1).get("throughput_msgs_per_s")
                        / (double) r.get("ceiling_msgs_per_s");
        assertThat((double) r.get("ratio_to_ceiling"))
                .isCloseTo(ratio0, within(Math.max(0.02, ratio0 * 0.05)));
        Map<String, Object> first = (Map<String, Object>) r.get("first_visible_s");
        assertThat(first).containsOnlyKeys("ceiling", "local", "llm");
        first.values().forEach(v -> assertThat((double) v).isPositive());
        assertThat((Map<String, Object>) r.get("checkpoint_ms"))
                .containsOnlyKeys("ceiling", "local", "llm");
        assertThat((double) r.get("cpu_ms_per_llm_request")).isPositive();
        // The loopback server's own CPU is part of the process's, never more.
        assertThat((double) r.get("cpu_ms_per_llm_request_without_server"))
                .isPositive()
                .isLessThanOrEqualTo((double) r.get("cpu_ms_per_llm_request"));
        assertThat((long) backlog.get(2).get("llm_server_cpu_ms")).isPositive();
        // The JIT compilers' share is part of the process CPU, never more.
        assertThat((long) backlog.get(2).get("jit_cpu_ms")).isNotNegative();
        assertThat((double) r.get("cpu_ms_per_llm_request_without_jit"))
                .isNotNegative()
                .isLessThanOrEqualTo((double) r.get("cpu_ms_per_llm_request"));
        assertThat((double) r.get("llm_busy_fraction")).isGreaterThan(0.0).isLessThanOrEqualTo(1.0);
        // About one combined request per customer message (half the messages), at least a third.
        assertThat((int) backlog.get(2).get("llm_requests"))
                .isGreaterThan((int) backlog.get(2).get("messages") / 3);

        String md = BenchReport.markdown(r);
        assertThat(md)
                .contains(
                        "speed-up vs synchronous",
                        "1x-10x-conversations",
                        "platform ceiling",
                        "first visible after start");
        Path png = tmp.resolve("bench.png");
        BenchReport.chart(r, png);
        assertThat(Files.size(png)).isGreaterThan(1000);
    }
}

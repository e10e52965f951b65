package io.signalstream.local.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Markdown and a PNG chart of a {@link Benchmark} report. */
public final class BenchReport {

    private BenchReport() {}

    /** The report as markdown: the headline figures and one row per run. */
    @SuppressWarnings("unchecked")
    public static String markdown(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        sb.append("### Benchmark: ")
                .append(r.get("messages"))
                .append(" messages per run, ")
                .append(
                        "local".equals(r.get("provider"))
                                ? "local provider (no LLM)"
                                : "LLM answer time "
                                        + r.get("llm_latency_ms")
                                        + " ms mean, in-flight bound "
                                        + r.get("capacity"))
                .append("\n\n");
        Map<String, Object> lat = (Map<String, Object>) r.get("latency_ms");
        sb.append("| figure | value |\n|---|---|\n");
        sb.append("| throughput (saturated) | ")
                .append(r.get("throughput_msgs_per_s"))
                .append(" msg/s |\n");
        sb.append("| LLM requests (saturated) | ")
                .append(r.get("llm_requests_per_s"))
                .append(" req/s |\n");
        sb.append("| latency produce → visible (1x rate) | p50 ")
                .append(lat.get("p50"))
                .append(" ms, p95 ")
                .append(lat.get("p95"))
                .append(" ms, p99 ")
                .append(lat.get("p99"))
                .append(" ms |\n");
        sb.append("| Little's-law efficiency (in-flight / bound) | ")
                .append(r.get("little_efficiency"))
                .append(" |\n");
        sb.append("| synchronous baseline | ")
                .append(r.get("sync_baseline_msgs_per_s"))
                .append(" msg/s |\n");
        sb.append("| speed-up vs synchronous | ").append(r.get("speedup_vs_sync")).append("× |\n");
        sb.append("| CPU cores used (saturated) | ").append(r.get("cpu_cores_used")).append(" |\n");
        sb.append("| heap max | ").append(r.get("heap_mb_max")).append(" MB |\n");
        if (r.get("backlog_messages") != null) {
            Map<String, Object> first = (Map<String, Object>) r.get("first_visible_s");
            Map<String, Object> ckp = (Map<String, Object>) r.get("checkpoint_ms");
            sb.append("| platform ceiling (Kafka → keyBy → map → Kafka, exactly-once) | ")
                    .append(r.get("ceiling_msgs_per_s"))
                    .append(" msg/s |\n");
            sb.append("| ratio to ceiling (local provider, backlog drained) | ")
                    .append(r.get("ratio_to_ceiling"))
                    .append(" |\n");
            sb.append("| first visible after start, ")
                    .append(r.get("backlog_messages"))
                    .append("-message backlog | local ")
                    .append(first.get("local"))
                    .append(" s, LLM ")
                    .append(first.get("llm"))
                    .append(" s, ceiling ")
                    .append(first.get("ceiling"))
                    .append(" s |\n");
            for (String k : List.of("local", "llm")) {
                Map<String, Object> c = (Map<String, Object>) ckp.get(k);
                sb.append("| checkpoints during the backlog (")
                        .append(k)
                        .append(") | p50 ")
                        .append(c.get("p50"))
                        .append(" ms, p99 ")
                        .append(c.get("p99"))
                        .append(" ms, first ")
                        .append(c.get("first"))
                        .append(" ms, ")
                        .append(c.get("completed"))
                        .append(" completed (")
                        .append(c.get("unaligned"))
                        .append(" unaligned) |\n");
            }
            sb.append("| CPU per LLM request (process, backlog run) | ")
                    .append(r.get("cpu_ms_per_llm_request"))
                    .append(" ms |\n");
            sb.append("| LLM in-flight busy fraction (backlog run) | ")
                    .append(r.get("llm_busy_fraction"))
                    .append(" |\n");
        }
        sb.append("\n");
        sb.append(
                "| run | conversations | rate (msg/s) | throughput (msg/s) | LLM req/s | LLM"
                    + " req/msg | prompt tokens/msg | in-flight | p50 ms | p95 ms | p99 ms |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> run : (List<Map<String, Object>>) r.get("runs")) {
            Map<String, Object> l = (Map<String, Object>) run.get("latency_ms");
            sb.append("| ")
                    .append(run.get("run"))
                    .append(" | ")
                    .append(run.get("conversations"))
                    .append(" | ")
                    .append(run.get("rate_msgs_per_s"))
                    .append(" | ")
                    .append(run.get("throughput_msgs_per_s"))
                    .append(" | ")
                    .append(run.get("llm_requests_per_s"))
                    .append(" | ")
                    .append(run.get("llm_requests_per_message"))
                    .append(" | ")
                    .append(run.get("prompt_tokens_per_msg"))
                    .append(" | ")
                    .append(run.get("llm_in_flight_avg"))
                    .append(" | ")
                    .append(l.get("p50"))
                    .append(" | ")
                    .append(l.get("p95"))
                    .append(" | ")
                    .append(l.get("p99"))
                    .append(" |\n");
        }
        return sb.toString();
    }

    /**
     * Writes a bar chart of throughput and p95 latency per run.
     *
     * @throws IOException if the file cannot be written
     */
    @SuppressWarnings("unchecked")
    public static void chart(Map<String, Object> r, Path png) throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> throughput = new ArrayList<>();
        List<Double> p95 = new ArrayList<>();
        for (Map<String, Object> run : (List<Map<String, Object>>) r.get("runs")) {
            names.add((String) run.get("run"));
            throughput.add(((Number) run.get("throughput_msgs_per_s")).doubleValue());
            p95.add(
                    ((Number) ((Map<String, Object>) run.get("latency_ms")).get("p95"))
                                    .doubleValue()
                            / 1000);
        }
        CategoryChart chart =
                new CategoryChartBuilder()
                        .width(900)
                        .height(450)
                        .title(
                                "SignalStream bench: LLM "
                                        + r.get("llm_latency_ms")
                                        + " ms mean, in-flight bound "
                                        + r.get("capacity"))
                        .xAxisTitle("run")
                        .yAxisTitle("msg/s  |  p95 latency (s)")
                        .build();
        chart.addSeries("throughput (msg/s)", names, throughput);
        chart.addSeries("p95 produce->visible (s)", names, p95);
        String file = png.toString().replaceFirst("\\.png$", "");
        BitmapEncoder.saveBitmap(chart, file, BitmapEncoder.BitmapFormat.PNG);
    }
}

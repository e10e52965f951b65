package io.signalstream.local.cli;

import io.signalstream.local.bench.BenchReport;
import io.signalstream.local.bench.Benchmark;
import io.signalstream.serde.Json;

import org.apache.flink.util.FileUtils;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code bench}: end-to-end throughput and latency against a loopback LLM, with baselines. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Run the real job (in-process Kafka, MiniCluster, exactly-once) with all agents on an"
                + " OpenAI-compatible loopback server answering in LLM-like time, and measure"
                + " throughput, LLM request rate, produce-to-visible latency, in-flight requests"
                + " against the Little's-law bound, a synchronous baseline, and 1x/4x/16x rates and"
                + " 10x conversations; then, on a backlog already in the input topic, the platform"
                + " ceiling (Kafka -> keyBy -> map -> Kafka, exactly-once), the time from job start"
                + " to the first visible output and the checkpoint durations, local provider and"
                + " LLM, and CPU ms per LLM request.",
            "Writes JSON to --report, markdown (.md) and a chart (.png) next to it."
        })
public final class BenchCommand implements Callable<Integer> {

    @Option(
            names = "--report",
            required = true,
            paramLabel = "FILE",
            description = "JSON report to write.")
    Path report;

    @Option(
            names = "--llm-latency-ms",
            defaultValue = "200",
            paramLabel = "N",
            description =
                    "Mean LLM answer time; answers take uniform [N/2, 3N/2] (default:"
                            + " ${DEFAULT-VALUE}).")
    long latencyMs;

    @Option(
            names = "--messages",
            defaultValue = "600",
            paramLabel = "N",
            description = "Messages per run (default: ${DEFAULT-VALUE}).")
    int messages;

    @Option(
            names = "--rate",
            defaultValue = "20",
            paramLabel = "R",
            description = "Messages per second of the 1x run (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(
            names = "--capacity",
            defaultValue = "64",
            paramLabel = "N",
            description = "LLM requests in flight allowed (default: ${DEFAULT-VALUE}).")
    int capacity;

    @Option(
            names = "--provider",
            defaultValue = "openai",
            paramLabel = "NAME",
            description =
                    "openai (against the loopback server, default) or local (in-process"
                            + " analyzers).")
    String provider;

    @Option(
            names = "--backlog",
            defaultValue = "" + Benchmark.Settings.DEFAULT_BACKLOG,
            paramLabel = "N",
            description =
                    "Messages already waiting in the input topic when the backlog runs start"
                            + " their job (platform ceiling, local provider, LLM): first visible"
                            + " output, drain rate, checkpoint durations, CPU per LLM request; 0"
                            + " skips them (default: ${DEFAULT-VALUE}).")
    int backlog;

    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            description =
                    "Flink or job option for every job of the run, applied last (e.g. -D"
                            + " execution.checkpointing.unaligned.enabled=false).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (!provider.equals("openai") && !provider.equals("local")) {
            System.err.println("error: --provider must be openai or local");
            return 2;
        }
        String unwritable = ReportFiles.prepare(report);
        if (unwritable != null) {
            System.err.println("error: " + unwritable);
            return 2;
        }
        Path dir = Files.createTempDirectory("signalstream-bench");
        try {
            System.out.printf(
                    "SignalStream bench: %d messages per run, %s%n",
                    messages,
                    provider.equals("local")
                            ? "local provider (no LLM)"
                            : "LLM " + latencyMs + " ms mean, in-flight bound " + capacity);
            Map<String, Object> r =
                    new Benchmark(
                                    new Benchmark.Settings(
                                            messages, latencyMs, rate, capacity, dir, provider,
                                            backlog, overrides),
                                    System.out)
                            .run();
            Files.write(report, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
            String base = report.getFileName().toString().replaceFirst("\\.json$", "");
            Path md = report.resolveSibling(base + ".md");
            Path png = report.resolveSibling(base + ".png");
            Files.writeString(md, BenchReport.markdown(r));
            BenchReport.chart(r, png);
            System.out.print(BenchReport.markdown(r));
            System.out.println("Reports written to " + report + ", " + md + " and " + png);
            return 0;
        } finally {
            FileUtils.deleteDirectoryQuietly(dir.toFile());
        }
    }
}

package io.signalstream.local.cli;

import io.signalstream.api.JwtTokens;
import io.signalstream.cli.ConfigOptionsMixin;
import io.signalstream.cli.LlmOptionsMixin;
import io.signalstream.local.Demo;
import io.signalstream.local.DemoReport;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.FileUtils;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code demo}: runs the whole system locally on real conversations. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Start an in-process Kafka broker, run the job on a local MiniCluster with RocksDB and"
                    + " exactly-once checkpoints, replay real conversations and show what a"
                    + " read_committed consumer sees.",
            "Exits 0 when every message has its output and nothing was emitted twice, 1 otherwise."
        })
public final class DemoCommand implements Callable<Integer> {

    @Option(
            names = "--data",
            paramLabel = "FILE",
            description =
                    "Conversation file (JSON lines); default: the bundled IBM customer-care data.")
    Path data;

    @Option(
            names = "--speed",
            paramLabel = "X",
            defaultValue = "200",
            description =
                    "Replay rate in messages per second, 0 for as fast as possible (default:"
                            + " ${DEFAULT-VALUE}).")
    double speed;

    @Option(
            names = "--report",
            paramLabel = "FILE",
            description = "Write the report as JSON to FILE.")
    Path report;

    @Option(
            names = "--work-dir",
            paramLabel = "DIR",
            description =
                    "Directory for the broker, checkpoints and state; default: a temporary"
                            + " directory, deleted afterwards.")
    Path workDir;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            description = "Job parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "170",
            description =
                    "Give up waiting for outputs after this long (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(
            names = "--llm-loopback",
            description =
                    "Run the agents on the openai provider against a built-in OpenAI-compatible"
                        + " server on 127.0.0.1 (scripted answers, no key needed), to see the LLM"
                        + " path at work.")
    boolean loopback;

    @Option(
            names = "--llm-fault-rate",
            paramLabel = "P",
            defaultValue = "0",
            description =
                    "With --llm-loopback: share of requests that get a fault (429, 5xx, bad JSON,"
                            + " schema break, reset), e.g. 0.2 (default: ${DEFAULT-VALUE}).")
    double faultRate;

    @Option(
            names = "--llm-max-delay-ms",
            paramLabel = "MS",
            defaultValue = "0",
            description =
                    "With --llm-loopback: random extra delay per request, 0..MS (default:"
                            + " ${DEFAULT-VALUE}).")
    long maxDelayMs;

    @Option(
            names = "--serve",
            description =
                    "After the replay, keep the broker, the job and the API running until Ctrl-C,"
                            + " and print the dashboard URL with a development token per tenant.")
    boolean serve;

    @Option(
            names = "--api-port",
            paramLabel = "N",
            defaultValue = "8080",
            description = "With --serve: the API's port (default: ${DEFAULT-VALUE}).")
    int apiPort;

    @Mixin ConfigOptionsMixin config;

    @Mixin LlmOptionsMixin llm;

    @Override
    public Integer call() throws Exception {
        if (data != null && !Files.isReadable(data)) {
            System.err.println("error: cannot read --data " + data);
            return 2;
        }
        String unwritable = report == null ? null : ReportFiles.prepare(report);
        if (unwritable != null) {
            System.err.println("error: " + unwritable);
            return 2;
        }
        String secret = System.getenv(JwtTokens.SECRET_ENV);
        if (serve
                && secret != null
                && secret.getBytes(StandardCharsets.UTF_8).length < JwtTokens.MIN_SECRET_BYTES) {
            System.err.println(
                    "error: "
                            + JwtTokens.SECRET_ENV
                            + " must have at least "
                            + JwtTokens.MIN_SECRET_BYTES
                            + " bytes (unset it to get a random one)");
            return 2;
        }
        if (loopback && llm.provider != null) {
            System.err.println(
                    "error: --llm-loopback chooses the provider itself; drop --provider");
            return 2;
        }
        boolean temporary = workDir == null;
        Path dir = temporary ? Files.createTempDirectory("signalstream-demo") : workDir;
        Files.createDirectories(dir);
        try {
            Configuration conf = config.load();
            llm.applyTo(conf);
            DemoReport r =
                    new Demo(
                                    new Demo.Settings(
                                            data,
                                            speed,
                                            dir,
                                            parallelism,
                                            Duration.ofSeconds(timeoutSeconds),
                                            conf,
                                            loopback,
                                            faultRate,
                                            maxDelayMs,
                                            serve ? apiPort : null),
                                    System.out)
                            .run();
            if (report != null) {
                Files.write(
                        report, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
                System.out.println("Report written to " + report);
            }
            return r.missing() == 0 && r.duplicates() == 0 ? 0 : 1;
        } finally {
            if (temporary) {
                FileUtils.deleteDirectoryQuietly(dir.toFile());
            }
        }
    }
}

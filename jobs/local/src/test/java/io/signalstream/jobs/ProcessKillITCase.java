package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.signalstream.jobs.RunJobProcess.completedCheckpoints;
import static io.signalstream.jobs.RunJobProcess.latestCheckpoint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real {@code run} command in its own JVM against the in-process broker, killed with SIGKILL
 * mid-stream several times and started again from the latest retained checkpoint each time. A
 * read_committed consumer must see exactly one aggregated and one lineage record per (tenant,
 * conversation, version).
 */
class ProcessKillITCase {

    @TempDir Path tmp;

    private Process start(String bootstrap, Path checkpoints, String restoreFrom, int n)
            throws IOException {
        return RunJobProcess.start(
                bootstrap,
                "kill-test-" + n,
                "kill-test",
                checkpoints,
                restoreFrom,
                tmp.resolve("run-" + n + ".log"),
                List.of());
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void killedThreeTimesAndRestoredExactlyOnce() throws Exception {
        RealData data = new RealData();
        Path checkpoints = tmp.resolve("checkpoints");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"))) {
            Configuration conf = new Configuration();
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 3, (short) 1));
            var events = ConversationReplayer.toEvents(data.lines);
            CompletableFuture<?> producing =
                    CompletableFuture.runAsync(
                            () -> {
                                try {
                                    ConversationReplayer.produce(
                                            broker.bootstrapServers(),
                                            new Properties(),
                                            conf.get(JobOptions.TOPIC_INPUT),
                                            events,
                                            60,
                                            n -> {});
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });

            List<String> restoredFrom = new ArrayList<>();
            Process job = start(broker.bootstrapServers(), checkpoints, null, 0);
            try {
                for (int kill = 1; kill <= 3; kill++) {
                    // Let the run complete at least two new checkpoints, then kill it hard.
                    int before = completedCheckpoints(checkpoints);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                    while (completedCheckpoints(checkpoints) < before + 2
                            && System.nanoTime() < deadline) {
                        assertThat(job.isAlive())
                                .as("run %d alive (see run-%d.log)", kill - 1, kill - 1)
                                .isTrue();
                        Thread.sleep(200);
                    }
                    job.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    String restore = latestCheckpoint(checkpoints).orElseThrow().toUri().toString();
                    restoredFrom.add(restore);
                    job = start(broker.bootstrapServers(), checkpoints, restore, kill);
                }
                producing.get(2, TimeUnit.MINUTES);
                var out =
                        KafkaOutputs.readCommitted(
                                broker.bootstrapServers(),
                                List.of("support.ai.aggregated", "support.lineage"),
                                got ->
                                        got.get("support.ai.aggregated").size()
                                                        >= data.expectedVersions.size()
                                                && got.get("support.lineage").size()
                                                        >= data.expectedVersions.size(),
                                Duration.ofMinutes(3));
                data.assertExactlyOnce(out);
                System.out.printf(
                        "process kill: 3 x SIGKILL, restored from %s; aggregated %d, lineage %d,"
                                + " expected %d%n",
                        restoredFrom,
                        out.get("support.ai.aggregated").size(),
                        out.get("support.lineage").size(),
                        data.expectedVersions.size());
            } finally {
                job.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}

package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.CommonTestUtils;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The broker goes away for about 10 s mid-stream and comes back on the same port and log directory;
 * the job recovers by itself and the outputs stay exactly-once.
 */
class BrokerOutageITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir Path tmp;

    private EmbeddedKafkaBroker broker;

    @AfterEach
    void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void jobRecoversFromABrokerOutageExactlyOnce() throws Exception {
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
        int port = broker.port();
        RealData data = new RealData();
        var events = ConversationReplayer.toEvents(data.lines);
        Configuration conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(JobOptions.GROUP_ID, "outage-itcase");
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                KafkaTopics.layout(conf, 3, (short) 1));
        String input = conf.get(JobOptions.TOPIC_INPUT);

        JobClient job =
                ConversationIntelligenceJob.kafka(conf, new Properties())
                        .executeAsync(
                                StreamExecutionEnvironment.getExecutionEnvironment(conf),
                                "outage-itcase");
        try {
            int third = events.size() / 3;
            ConversationReplayer.produce(
                    broker.bootstrapServers(),
                    new Properties(),
                    input,
                    events.subList(0, third),
                    300,
                    n -> {});

            long down = System.nanoTime();
            broker.stop();
            Thread.sleep(10_000);
            broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"), port);
            long outageMs = (System.nanoTime() - down) / 1_000_000;

            ConversationReplayer.produce(
                    broker.bootstrapServers(),
                    new Properties(),
                    input,
                    events.subList(third, events.size()),
                    0,
                    n -> {});
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
                    "broker outage: %d ms down after %d of %d inputs; aggregated %d, lineage %d,"
                            + " expected %d%n",
                    outageMs,
                    third,
                    events.size(),
                    out.get("support.ai.aggregated").size(),
                    out.get("support.lineage").size(),
                    data.expectedVersions.size());
        } finally {
            job.cancel().get(60, TimeUnit.SECONDS);
            CommonTestUtils.waitForJobStatus(job, List.of(JobStatus.CANCELED));
        }
    }
}

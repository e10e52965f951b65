package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.CommonTestUtils;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Shared fixture of the ITCases that run the whole job: a Flink MiniCluster (1 TaskManager, 2
 * slots) and a real in-process KRaft broker per test class.
 */
abstract class KafkaJobTestBase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir static Path tmp;

    static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    /**
     * The local defaults (RocksDB, exactly-once), checkpoints every second, this broker and
     * consumer group; the job's topics are created with 3 partitions.
     */
    static Configuration jobConf(String groupId) {
        Configuration conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(JobOptions.GROUP_ID, groupId);
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                KafkaTopics.layout(conf, 3, (short) 1));
        return conf;
    }

    /**
     * {@link #jobConf} for failure tests: 400 ms checkpoints and a fixed-delay restart strategy
     * (200 ms between {@code attempts} restarts).
     */
    static Configuration restartingJobConf(String groupId, int attempts) {
        Configuration conf = jobConf(groupId);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(400));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, attempts);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        return conf;
    }

    /**
     * Writes keyed message events to {@code topic} of the test broker, as fast as it takes them.
     */
    static void produce(String topic, List<Map.Entry<String, byte[]>> events) throws Exception {
        ConversationReplayer.produce(
                broker.bootstrapServers(), new Properties(), topic, events, 0, n -> {});
    }

    /** Submits the job on the MiniCluster. */
    static JobClient submit(ConversationIntelligenceJob job, Configuration conf, String name)
            throws Exception {
        return job.executeAsync(StreamExecutionEnvironment.getExecutionEnvironment(conf), name);
    }

    /** Cancels the job and waits until it is cancelled (its checkpoint files are then quiet). */
    static void cancel(JobClient job) throws Exception {
        job.cancel().get(60, TimeUnit.SECONDS);
        CommonTestUtils.waitForJobStatus(job, List.of(JobStatus.CANCELED));
    }
}

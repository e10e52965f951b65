package io.signalstream.local.sql;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.OutputTracker;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Fills the topics of a Kafka cluster with the job's real output, for SQL to query: creates the
 * topics, runs {@link ConversationIntelligenceJob} on the environment's (local) cluster, replays
 * the input events, waits until a {@code read_committed} consumer sees an output or a dead letter
 * for every one of them ({@link OutputTracker}), then cancels the job.
 */
public final class DemoDataLoader {

    /**
     * What was loaded.
     *
     * @param produced the input records as produced (partition, offset, key, message id)
     * @param aggregated distinct aggregated records seen
     * @param deadLetters dead letters seen
     * @param elapsed time from submitting the job to the last output
     */
    public record Loaded(
            List<ConversationReplayer.Produced> produced,
            int aggregated,
            int deadLetters,
            Duration elapsed) {}

    private DemoDataLoader() {}

    /**
     * Runs the job over {@code events} until each has its output, then cancels it.
     *
     * @param conf job and Flink configuration; {@link JobOptions#BOOTSTRAP_SERVERS} names the Kafka
     *     cluster
     * @param kafkaProperties extra Kafka client properties (security)
     * @param events input records (key, value), e.g. from {@link ConversationReplayer#toEvents}
     * @param timeout how long to wait for the outputs
     * @param log progress lines go here
     * @return what was loaded
     * @throws IllegalStateException if outputs are missing after {@code timeout} or the job ends
     * @throws Exception if the job cannot be submitted or a record cannot be produced
     */
    public static Loaded load(
            Configuration conf,
            Properties kafkaProperties,
            List<Map.Entry<String, byte[]>> events,
            Duration timeout,
            PrintStream log)
            throws Exception {
        String bootstrap = conf.get(JobOptions.BOOTSTRAP_SERVERS);
        KafkaTopics.create(bootstrap, kafkaProperties, KafkaTopics.layout(conf, 4, (short) 1));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        long start = System.nanoTime();
        JobClient job =
                ConversationIntelligenceJob.kafka(conf, kafkaProperties)
                        .executeAsync(env, "signalstream-sql-load");
        try {
            List<ConversationReplayer.Produced> produced =
                    ConversationReplayer.produce(
                            bootstrap,
                            kafkaProperties,
                            conf.get(JobOptions.TOPIC_INPUT),
                            events,
                            0,
                            n -> {});
            log.printf(
                    "Replayed %d messages into %s; waiting for the job's output%n",
                    produced.size(), conf.get(JobOptions.TOPIC_INPUT));
            try (OutputTracker tracker = new OutputTracker(bootstrap, kafkaProperties, conf)) {
                long deadline = System.nanoTime() + timeout.toNanos();
                int missing = produced.size();
                while (System.nanoTime() < deadline) {
                    tracker.poll(Duration.ofMillis(200));
                    missing = tracker.missing(produced).size();
                    if (missing == 0) {
                        break;
                    }
                    JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
                    if (status.isGloballyTerminalState()) {
                        throw new IllegalStateException("the job ended unexpectedly: " + status);
                    }
                }
                if (missing > 0) {
                    throw new IllegalStateException(
                            missing
                                    + " of "
                                    + produced.size()
                                    + " messages have no output after "
                                    + timeout);
                }
                Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
                log.printf(
                        "Job output complete: %d aggregated records, %d dead letters (%.1f s)%n",
                        tracker.aggregated(), tracker.deadLetters(), elapsed.toMillis() / 1000.0);
                return new Loaded(produced, tracker.aggregated(), tracker.deadLetters(), elapsed);
            }
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
            waitUntilTerminal(job);
        }
    }

    private static void waitUntilTerminal(JobClient job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                if (job.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
                    return;
                }
            } catch (Exception e) {
                return; // a local cluster that is gone: the job is gone with it
            }
            Thread.sleep(100);
        }
    }
}

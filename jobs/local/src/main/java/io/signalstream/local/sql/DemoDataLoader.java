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

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Fills the topics of a Kafka cluster with the job's real output, for SQL to query: creates the
 * topics, runs {@link ConversationIntelligenceJob} on the environment's (local) cluster, replays
 * the input events, waits until a {@code read_committed} consumer sees an output or a dead letter
 * for every one of them ({@link OutputTracker}), then cancels the job. Feedback records, when
 * given, are produced to the feedback topic first, and the load also waits until each has a
 * learning signal or a dead letter.
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
        return load(conf, kafkaProperties, events, List.of(), timeout, log);
    }

    /**
     * As {@link #load(Configuration, Properties, List, Duration, PrintStream)}, with feedback:
     * produced to {@link JobOptions#TOPIC_FEEDBACK} before the job starts; the load then also waits
     * until {@code support.learning-signals} and the feedback dead letters together hold as many
     * records as there were feedback records.
     *
     * @param feedback feedback records (key, value)
     */
    public static Loaded load(
            Configuration conf,
            Properties kafkaProperties,
            List<Map.Entry<String, byte[]>> events,
            List<Map.Entry<String, byte[]>> feedback,
            Duration timeout,
            PrintStream log)
            throws Exception {
        String bootstrap = conf.get(JobOptions.BOOTSTRAP_SERVERS);
        KafkaTopics.create(bootstrap, kafkaProperties, KafkaTopics.layout(conf, 4, (short) 1));
        if (!feedback.isEmpty()) {
            ConversationReplayer.produce(
                    bootstrap,
                    kafkaProperties,
                    conf.get(JobOptions.TOPIC_FEEDBACK),
                    feedback,
                    0,
                    n -> {});
        }
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
                if (!feedback.isEmpty()) {
                    awaitFeedbackOutcomes(conf, kafkaProperties, feedback.size(), deadline);
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

    /**
     * Waits until the learning signals and the feedback dead letters (stages {@code feedback*})
     * number {@code count}, read_committed.
     */
    private static void awaitFeedbackOutcomes(
            Configuration conf, Properties kafkaProperties, int count, long deadlineNanos) {
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, conf.get(JobOptions.BOOTSTRAP_SERVERS));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        String signalsTopic = conf.get(JobOptions.TOPIC_LEARNING_SIGNALS);
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : List.of(signalsTopic, conf.get(JobOptions.TOPIC_DLQ))) {
                for (PartitionInfo pi : c.partitionsFor(t, Duration.ofSeconds(30))) {
                    parts.add(new TopicPartition(t, pi.partition()));
                }
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            int seen = 0;
            while (seen < count) {
                if (System.nanoTime() > deadlineNanos) {
                    throw new IllegalStateException(
                            (count - seen) + " of " + count + " feedback records have no outcome");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.topic().equals(signalsTopic)
                            || new String(r.value(), StandardCharsets.UTF_8)
                                    .contains("\"stage\":\"feedback")) {
                        seen++;
                    }
                }
            }
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

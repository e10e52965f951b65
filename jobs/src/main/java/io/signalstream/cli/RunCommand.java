package io.signalstream.cli;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.JobConfigLoader;
import io.signalstream.jobs.kafka.KafkaPreflight;
import io.signalstream.jobs.kafka.KafkaTopics;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code run}: the job against an existing Kafka. Submitted to a Flink cluster (the Kubernetes
 * operator's entry point), it runs there; started with {@code java -jar}, it runs on a local
 * MiniCluster.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Run the job against an existing Kafka cluster until it is cancelled.")
public final class RunCommand implements Callable<Integer> {

    @Option(
            names = "--bootstrap-servers",
            required = true,
            paramLabel = "HOSTS",
            description = "Kafka bootstrap servers, e.g. kafka:9092.")
    String bootstrapServers;

    @Option(
            names = "--create-topics",
            description = "Create missing topics first (partitions: --partitions).")
    boolean createTopics;

    @Option(
            names = "--partitions",
            defaultValue = "4",
            description = "Partitions of created topics (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
            names = "--replication-factor",
            defaultValue = "1",
            description = "Replication of created topics (default: ${DEFAULT-VALUE}).")
    short replication;

    @Option(
            names = "--job-name",
            defaultValue = "signalstream",
            description = "Flink job name (default: ${DEFAULT-VALUE}).")
    String jobName;

    @Mixin ConfigOptionsMixin config;

    @Mixin LlmOptionsMixin llm;

    @Override
    public Integer call() throws Exception {
        Configuration conf = config.load();
        conf.set(JobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        llm.applyTo(conf);
        Properties kafkaProps = JobConfigLoader.kafkaProperties(conf);
        try {
            KafkaPreflight.check(bootstrapServers, kafkaProps, 30);
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        if (createTopics) {
            KafkaTopics.create(
                    bootstrapServers,
                    kafkaProps,
                    KafkaTopics.layout(conf, partitions, replication));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        ConversationIntelligenceJob job = ConversationIntelligenceJob.kafka(conf, kafkaProps);
        job.build(env);
        env.execute(jobName);
        return 0;
    }
}

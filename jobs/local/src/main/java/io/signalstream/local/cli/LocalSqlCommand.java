package io.signalstream.local.cli;

import io.signalstream.cli.SqlCommand;
import io.signalstream.config.JobOptions;
import io.signalstream.jobs.JobConfigLoader;
import io.signalstream.jobs.sql.ResultFormat;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.local.sql.DemoDataLoader;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.FileUtils;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * {@code sql} of the local build: the cluster's {@link SqlCommand}, plus, without {@code
 * --bootstrap-servers}, an in-process broker filled by running the job on the bundled conversations
 * first.
 */
@Command(
        name = "sql",
        mixinStandardHelpOptions = true,
        description = {
            "Run Flink SQL over the SignalStream topics and print the result.",
            "The table DDL (sql/tables.sql) and the SQL functions (sql/functions.sql) are run"
                    + " first. Without --bootstrap-servers an in-process Kafka broker is started"
                    + " and filled by running the job on the bundled demo conversations.",
            "By default queries are bounded: they read each topic up to its latest offset and end"
                    + " with the final answer (batch mode). --unbounded keeps reading and prints"
                    + " changes (+I, -U, +U, -D) until interrupted."
        })
public final class LocalSqlCommand extends SqlCommand {

    @Option(
            names = "--data",
            paramLabel = "FILE",
            description =
                    "Without --bootstrap-servers: the conversation file to load (default: the"
                            + " bundled demo data).")
    Path data;

    @Option(
            names = "--work-dir",
            paramLabel = "DIR",
            description =
                    "Without --bootstrap-servers: directory for the broker and checkpoints;"
                            + " default: a temporary directory, deleted afterwards.")
    Path workDir;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "170",
            description =
                    "Without --bootstrap-servers: how long to wait for the job's output (default:"
                            + " ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Override
    protected int runWithoutKafka(
            Configuration conf, List<Path> initScripts, String script, ResultFormat fmt)
            throws Exception {
        boolean temporary = workDir == null;
        Path dir = temporary ? Files.createTempDirectory("signalstream-sql") : workDir;
        Files.createDirectories(dir);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            System.err.printf(
                    "Kafka broker (KRaft, in-process) on %s%n", broker.bootstrapServers());
            Configuration jobConf = LocalFlinkConfig.withLocalDefaults(conf, dir, 2);
            jobConf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            Properties kafkaProps = JobConfigLoader.kafkaProperties(jobConf);
            DemoDataLoader.load(
                    jobConf,
                    kafkaProps,
                    ConversationReplayer.toEvents(ConversationReplayer.readLines(data)),
                    Duration.ofSeconds(timeoutSeconds),
                    System.err);
            return runSql(broker.bootstrapServers(), conf, initScripts, script, fmt);
        } finally {
            if (temporary) {
                FileUtils.deleteDirectoryQuietly(dir.toFile());
            }
        }
    }
}

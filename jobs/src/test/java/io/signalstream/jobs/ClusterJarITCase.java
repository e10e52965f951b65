package io.signalstream.jobs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster jar ({@code target/signalstream-job.jar}, what the Flink Kubernetes Operator's image
 * runs) holds the job and its runtime dependencies only: no local runtime, no demo data, no
 * charting library, no Kafka broker, and nothing the Flink distribution already provides. Runs
 * after {@code package} (failsafe), on the jar the build just made.
 */
class ClusterJarITCase {

    /**
     * The cluster jar before the local runtime moved out of it (the 0.1.0 {@code -Pcluster} jar).
     */
    private static final long SIZE_BEFORE_SPLIT = 38_536_304L;

    private static final Path JAR = Path.of("target", "signalstream-job.jar");

    private static List<String> entries;

    @BeforeAll
    static void listEntries() throws IOException {
        assertThat(JAR).as("run `mvn package` first").isRegularFile();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            entries = Collections.list(jar.entries()).stream().map(ZipEntry::getName).toList();
        }
    }

    @Test
    void holdsTheJobAndItsRuntimeDependencies() throws IOException {
        assertThat(entries)
                .contains(
                        "io/signalstream/jobs/ConversationIntelligenceJob.class",
                        "io/signalstream/cli/SignalStreamCli.class",
                        "io/signalstream/functions/AgentAsyncFunction.class",
                        "io/signalstream/llm/OpenAiProvider.class",
                        "io/signalstream/agents/local/PiiDetector.class",
                        "lexicon/vader_lexicon.txt",
                        "org/apache/flink/connector/kafka/sink/KafkaSink.class",
                        "org/apache/kafka/clients/producer/KafkaProducer.class",
                        "picocli/CommandLine.class");
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo("io.signalstream.cli.SignalStreamCli");
        }
    }

    @Test
    void holdsNoLocalRuntimeDemoDataOrChartingLibrary() {
        assertThat(entries)
                .noneMatch(e -> e.startsWith("io/signalstream/local/"))
                .noneMatch(e -> e.startsWith("io/signalstream/api/") || e.startsWith("io/javalin/"))
                .noneMatch(e -> e.startsWith("data/") || e.startsWith("eval/"))
                .noneMatch(e -> e.startsWith("flink-conf/") || e.equals("log4j2.xml"))
                .noneMatch(e -> e.startsWith("org/knowm/") || e.startsWith("org/apache/pdfbox/"))
                .noneMatch(e -> e.startsWith("de/erichseifert/"));
    }

    @Test
    void holdsNoKafkaBrokerAndNothingFlinkProvides() {
        assertThat(entries)
                .noneMatch(e -> e.startsWith("kafka/") && e.endsWith(".class"))
                .noneMatch(e -> e.startsWith("scala/"))
                .noneMatch(e -> e.startsWith("org/apache/flink/runtime/"))
                .noneMatch(e -> e.startsWith("org/apache/flink/streaming/api/environment/"))
                .noneMatch(e -> e.startsWith("org/apache/flink/table/planner/"))
                .noneMatch(e -> e.startsWith("org/apache/logging/log4j/core/"));
    }

    @Test
    void isAtLeastThirtyPercentSmallerThanBeforeTheSplit() throws IOException {
        long size = Files.size(JAR);
        System.out.printf(
                "cluster jar: %,d bytes (%.1f MB), %d entries; before the split %,d bytes%n",
                size, size / 1e6, entries.size(), SIZE_BEFORE_SPLIT);
        assertThat(size).isLessThanOrEqualTo(SIZE_BEFORE_SPLIT * 7 / 10);
    }
}

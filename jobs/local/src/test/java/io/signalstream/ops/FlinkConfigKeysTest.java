package io.signalstream.ops;

import io.signalstream.local.LocalFlinkConfig;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code flink-conf/config.yaml}: every key is a real Flink (or SignalStream) option whose value
 * parses, the settings the operations guide promises are there, the memory fits a 2 GiB
 * TaskManager, and the local runtime starts from the same file.
 */
class FlinkConfigKeysTest {

    static final Path CONFIG = OpsPaths.REPO.resolve("flink-conf/config.yaml");

    static FlinkOptionRegistry registry;

    @BeforeAll
    static void scan() throws Exception {
        registry = FlinkOptionRegistry.scan();
    }

    static Configuration load(Path file) {
        return GlobalConfiguration.loadConfiguration(file.getParent().toString());
    }

    @Test
    void registryHoldsFlinksOptions() {
        assertThat(registry.size()).isGreaterThan(500);
        assertThat(registry.optionClasses())
                .contains(
                        "org.apache.flink.configuration.CheckpointingOptions",
                        "org.apache.flink.state.rocksdb.RocksDBConfigurableOptions",
                        "io.signalstream.config.JobOptions");
    }

    @Test
    void everyKeyOfConfigYamlIsARealOption() {
        Map<String, String> entries = load(CONFIG).toMap();
        assertThat(entries).hasSizeGreaterThan(30);
        List<String> problems = new ArrayList<>();
        entries.forEach((k, v) -> problems.addAll(registry.check(k, v)));
        assertThat(problems).isEmpty();
    }

    @Test
    void typosAndBadValuesAreCaught(@TempDir Path dir) throws Exception {
        Files.writeString(
                dir.resolve(GlobalConfiguration.FLINK_CONF_FILENAME),
                String.join(
                        "\n",
                        "execution:",
                        "  checkpointing:",
                        "    intervall: 5 s",
                        "    timeout: 5 parsecs",
                        "state.backend.rocksdb.compaction.filter.query-time-after-num-entry: 10",
                        "metrics.reporter.prom.factory.clas: x",
                        "signalstream.agents.summary.trigerr: debounced",
                        "signalstream.kafka.properties.sasl.mechanizm: PLAIN",
                        ""));
        Map<String, String> entries = GlobalConfiguration.loadConfiguration(dir.toString()).toMap();
        List<String> problems = new ArrayList<>();
        entries.forEach((k, v) -> problems.addAll(registry.check(k, v)));
        assertThat(problems).hasSize(entries.size());
        assertThat(String.join("\n", problems))
                .contains("execution.checkpointing.intervall: not a")
                .contains("execution.checkpointing.timeout: value '5 parsecs' does not parse")
                .contains("sasl.mechanizm' is not a Kafka client property");
        assertThat(registry.check("signalstream.agents.summary.trigger", "debounced")).isEmpty();
        assertThat(registry.check("signalstream.providers.openai.base-url", "http://x")).isEmpty();
        assertThat(registry.check("metrics.reporter.prom.port", "9249")).isEmpty();
    }

    @Test
    void promisedSettings() {
        Configuration c = load(CONFIG);
        assertThat(c.get(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE))
                .isEqualTo(CheckpointingMode.EXACTLY_ONCE);
        assertThat(c.get(CheckpointingOptions.CHECKPOINTING_INTERVAL)).isPositive();
        assertThat(c.get(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS)).isPositive();
        assertThat(c.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT))
                .isGreaterThan(c.get(CheckpointingOptions.CHECKPOINTING_INTERVAL));
        assertThat(c.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
                .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        assertThat(c.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(c.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(c.get(RocksDBConfigurableOptions.COMPACT_FILTER_PERIODIC_COMPACTION_TIME))
                .isEqualTo(Duration.ofDays(7));
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
        assertThat(c.getString("metrics.reporter.prom.factory.class", null))
                .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        assertThat(c.getString("metrics.reporter.prom.port", null)).isEqualTo("9249");
    }

    @Test
    void memoryFitsATwoGibTaskManager() {
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(load(CONFIG));
        assertThat(spec.getTotalProcessMemorySize()).isEqualTo(MemorySize.parse("2g"));
        assertThat(spec.getManagedMemorySize().getMebiBytes()).isBetween(400, 800);
        assertThat(spec.getTaskHeapSize().getMebiBytes()).isGreaterThan(400);
    }

    @Test
    void localRuntimeStartsFromTheSameFile(@TempDir Path work) {
        Configuration file = load(CONFIG);
        Configuration local = LocalFlinkConfig.withLocalDefaults(new Configuration(), work, 3);
        // Everything but the documented local overrides comes from the file.
        List<String> overridden =
                List.of(
                        "execution.checkpointing.interval",
                        "execution.checkpointing.min-pause",
                        "restart-strategy.exponential-delay.initial-backoff",
                        "restart-strategy.exponential-delay.max-backoff",
                        "metrics.reporter.prom.port");
        file.toMap()
                .forEach(
                        (k, v) -> {
                            // Memory sizes and slots are the cluster's; the network
                            // settings (buffer debloating) apply to the MiniCluster too.
                            if (k.startsWith("taskmanager.memory.")
                                    || k.equals("taskmanager.numberOfTaskSlots")
                                    || k.startsWith("jobmanager.memory.")) {
                                assertThat(local.containsKey(k)).as(k).isFalse();
                            } else if (!overridden.contains(k)) {
                                assertThat(local.toMap()).containsEntry(k, v);
                            }
                        });
        assertThat(local.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo(work.resolve("checkpoints").toUri().toString());
        assertThat(local.get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
                .isEqualTo(Duration.ofSeconds(2));
        Configuration user = new Configuration();
        user.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(7));
        assertThat(
                        LocalFlinkConfig.withLocalDefaults(user, work, 3)
                                .get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
                .isEqualTo(Duration.ofSeconds(7));
    }
}

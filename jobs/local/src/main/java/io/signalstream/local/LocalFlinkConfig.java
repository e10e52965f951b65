package io.signalstream.local;

import io.signalstream.jobs.JobConfigLoader;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestartStrategyOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Flink settings of the local runtime (MiniCluster).
 *
 * <p>The base is the same {@code flink-conf/config.yaml} the cluster uses (bundled in the jar as
 * {@value #BUNDLED_CONFIG}): RocksDB with incremental, exactly-once checkpoints retained on
 * cancellation, the TTL compaction filter, the exponential-delay restart strategy and the
 * Prometheus reporter. On top of it, the local overrides:
 *
 * <ul>
 *   <li>checkpoints and savepoints under the work directory, temporary files there too;
 *   <li>checkpoints every 2 s (min pause 500 ms), so a demo run shows its output quickly;
 *   <li>restart backoff 500 ms .. 10 s instead of 1 s .. 1 min;
 *   <li>the Prometheus reporter on the first free port of 9249-9259 (several local runs may share a
 *       machine);
 *   <li>no TaskManager / JobManager memory sizes or slot count: the MiniCluster lives in this JVM
 *       and gets as many slots as the job's parallelism.
 * </ul>
 *
 * Anything set in the given configuration wins over both.
 */
public final class LocalFlinkConfig {

    /** Class path resource of the bundled {@code flink-conf/config.yaml}. */
    public static final String BUNDLED_CONFIG = "flink-conf/config.yaml";

    /** Port range of the Prometheus reporter of local runs. */
    public static final String LOCAL_PROMETHEUS_PORTS = "9249-9259";

    private static final String[] CLUSTER_ONLY_PREFIXES = {
        "taskmanager.memory.", "jobmanager.memory.", "taskmanager.numberOfTaskSlots"
    };

    private static Configuration bundled;

    private LocalFlinkConfig() {}

    /**
     * Returns a new configuration: the bundled {@code config.yaml}, the local overrides, then
     * {@code base}.
     *
     * @param base user configuration (config file and {@code -D} options)
     * @param workDir directory for checkpoints and RocksDB files
     * @param parallelism default parallelism
     * @throws UncheckedIOException if the bundled file cannot be read
     */
    public static Configuration withLocalDefaults(
            Configuration base, Path workDir, int parallelism) {
        Configuration c = new Configuration();
        for (Map.Entry<String, String> e : bundledConfig().toMap().entrySet()) {
            if (!isClusterOnly(e.getKey())) {
                c.setString(e.getKey(), e.getValue());
            }
        }
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(2));
        c.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ofMillis(500));
        c.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                workDir.resolve("checkpoints").toUri().toString());
        c.set(
                CheckpointingOptions.SAVEPOINT_DIRECTORY,
                workDir.resolve("savepoints").toUri().toString());
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                Duration.ofMillis(500));
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                Duration.ofSeconds(10));
        if (c.containsKey("metrics.reporter.prom.port")) {
            c.setString("metrics.reporter.prom.port", LOCAL_PROMETHEUS_PORTS);
        }
        c.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        c.set(CoreOptions.TMP_DIRS, workDir.resolve("tmp").toString());
        c.addAll(base);
        return c;
    }

    /**
     * The bundled {@code flink-conf/config.yaml} as Flink reads it (nested keys flattened), read
     * once per JVM.
     *
     * @return a copy, free to modify
     * @throws UncheckedIOException if the resource is missing or cannot be read
     */
    public static synchronized Configuration bundledConfig() {
        if (bundled == null) {
            try (InputStream in =
                    LocalFlinkConfig.class.getClassLoader().getResourceAsStream(BUNDLED_CONFIG)) {
                if (in == null) {
                    throw new IOException(
                            "resource " + BUNDLED_CONFIG + " is not on the class path");
                }
                bundled = JobConfigLoader.readFlinkYaml(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the bundled " + BUNDLED_CONFIG, e);
            }
        }
        return new Configuration(bundled);
    }

    private static boolean isClusterOnly(String key) {
        for (String prefix : CLUSTER_ONLY_PREFIXES) {
            if (key.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}

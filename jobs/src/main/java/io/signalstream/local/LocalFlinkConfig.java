package io.signalstream.local;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;

/**
 * Flink settings of the local runtime (MiniCluster): RocksDB with incremental, exactly-once
 * checkpoints every 2 s under the work directory, retained on cancellation, and an
 * exponential-delay restart strategy. Anything already set in the given configuration wins.
 */
public final class LocalFlinkConfig {

    private LocalFlinkConfig() {}

    /**
     * Returns a copy of {@code base} with the local defaults filled in.
     *
     * @param base user configuration (config file and {@code -D} options)
     * @param workDir directory for checkpoints and RocksDB files
     * @param parallelism default parallelism
     */
    public static Configuration withLocalDefaults(Configuration base, Path workDir, int parallelism) {
        Configuration c = new Configuration();
        c.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        c.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(2));
        c.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ofMillis(500));
        c.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                workDir.resolve("checkpoints").toUri().toString());
        c.set(
                CheckpointingOptions.SAVEPOINT_DIRECTORY,
                workDir.resolve("savepoints").toUri().toString());
        c.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                Duration.ofMillis(500));
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                Duration.ofSeconds(10));
        c.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        c.set(CoreOptions.TMP_DIRS, workDir.resolve("tmp").toString());
        c.addAll(base);
        return c;
    }
}

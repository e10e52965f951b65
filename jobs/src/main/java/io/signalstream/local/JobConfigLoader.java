package io.signalstream.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

/**
 * Loads the job configuration the way Flink does: a Flink {@code config.yaml} (nested or flat
 * keys), then {@code -D key=value} overrides on top.
 */
public final class JobConfigLoader {

    /** Kafka client properties are given as {@code signalstream.kafka.properties.<name>}. */
    public static final String KAFKA_PROPERTIES_PREFIX = "signalstream.kafka.properties.";

    private JobConfigLoader() {}

    /**
     * @param configFile a {@code config.yaml} file or a directory holding one; null for none
     * @param overrides {@code -D} options, applied last
     * @return the configuration
     * @throws IllegalArgumentException if the file does not exist
     * @throws IOException if it cannot be read
     */
    public static Configuration load(Path configFile, Map<String, String> overrides)
            throws IOException {
        Configuration conf = new Configuration();
        if (configFile != null) {
            if (!Files.exists(configFile)) {
                throw new IllegalArgumentException("config file " + configFile + " does not exist");
            }
            Path dir = configFile;
            if (!Files.isDirectory(configFile)) {
                dir = Files.createTempDirectory("signalstream-conf");
                Files.copy(
                        configFile,
                        dir.resolve(GlobalConfiguration.FLINK_CONF_FILENAME),
                        StandardCopyOption.REPLACE_EXISTING);
                dir.toFile().deleteOnExit();
                dir.resolve(GlobalConfiguration.FLINK_CONF_FILENAME).toFile().deleteOnExit();
            }
            conf.addAll(GlobalConfiguration.loadConfiguration(dir.toString()));
        }
        if (overrides != null) {
            overrides.forEach(conf::setString);
        }
        return conf;
    }

    /** The Kafka client properties set as {@code signalstream.kafka.properties.<name>}. */
    public static Properties kafkaProperties(Configuration conf) {
        Properties props = new Properties();
        for (Map.Entry<String, String> e : conf.toMap().entrySet()) {
            if (e.getKey().startsWith(KAFKA_PROPERTIES_PREFIX)) {
                props.setProperty(e.getKey().substring(KAFKA_PROPERTIES_PREFIX.length()), e.getValue());
            }
        }
        return props;
    }
}

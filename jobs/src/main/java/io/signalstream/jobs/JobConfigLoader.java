package io.signalstream.jobs;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

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
            if (Files.isDirectory(configFile)) {
                conf.addAll(GlobalConfiguration.loadConfiguration(configFile.toString()));
            } else {
                try (InputStream in = Files.newInputStream(configFile)) {
                    conf.addAll(readFlinkYaml(in));
                }
            }
        }
        if (overrides != null) {
            overrides.forEach(conf::setString);
        }
        return conf;
    }

    /**
     * Reads a Flink {@code config.yaml} (nested or flat keys) the way Flink does: {@link
     * GlobalConfiguration} only reads a file named {@code config.yaml} in a directory, so the
     * content is copied into a temporary one, read, and the copy deleted.
     *
     * @throws IOException if it cannot be read
     */
    public static Configuration readFlinkYaml(InputStream in) throws IOException {
        Path dir = Files.createTempDirectory("signalstream-conf");
        Path file = dir.resolve(GlobalConfiguration.FLINK_CONF_FILENAME);
        try {
            Files.copy(in, file);
            return GlobalConfiguration.loadConfiguration(dir.toString());
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** Environment variables named {@code SIGNALSTREAM_KAFKA_<PROPERTY>} are Kafka properties. */
    public static final String KAFKA_ENV_PREFIX = "SIGNALSTREAM_KAFKA_";

    /** With {@code sasl.mechanism} set, these two build {@code sasl.jaas.config}. */
    public static final String ENV_SASL_USERNAME = "SIGNALSTREAM_KAFKA_SASL_USERNAME";

    /** The password of {@link #ENV_SASL_USERNAME}; never logged. */
    public static final String ENV_SASL_PASSWORD = "SIGNALSTREAM_KAFKA_SASL_PASSWORD";

    /** The Kafka client properties of the process environment and the configuration. */
    public static Properties kafkaProperties(Configuration conf) {
        return kafkaProperties(conf, System.getenv());
    }

    /**
     * The Kafka client properties for the source, the sinks and the admin client, named as the
     * Kafka clients name them: environment variables {@code SIGNALSTREAM_KAFKA_<NAME>} ({@code
     * SIGNALSTREAM_KAFKA_SECURITY_PROTOCOL=SASL_SSL} is {@code security.protocol}), then {@code
     * signalstream.kafka.properties.<name>} options, which win. With {@code sasl.mechanism} {@code
     * SCRAM-SHA-256}, {@code SCRAM-SHA-512} or {@code PLAIN} and no {@code sasl.jaas.config},
     * {@code SIGNALSTREAM_KAFKA_SASL_USERNAME} and {@code SIGNALSTREAM_KAFKA_SASL_PASSWORD} make
     * one, so a password can come from a Kubernetes Secret without being written anywhere.
     *
     * @param conf the configuration
     * @param env the environment variables
     */
    public static Properties kafkaProperties(Configuration conf, Map<String, String> env) {
        Properties props = new Properties();
        for (Map.Entry<String, String> e : env.entrySet()) {
            String k = e.getKey();
            if (k.startsWith(KAFKA_ENV_PREFIX)
                    && !k.equals(ENV_SASL_USERNAME)
                    && !k.equals(ENV_SASL_PASSWORD)) {
                props.setProperty(
                        k.substring(KAFKA_ENV_PREFIX.length())
                                .toLowerCase(Locale.ROOT)
                                .replace('_', '.'),
                        e.getValue());
            }
        }
        for (Map.Entry<String, String> e : conf.toMap().entrySet()) {
            if (e.getKey().startsWith(KAFKA_PROPERTIES_PREFIX)) {
                props.setProperty(
                        e.getKey().substring(KAFKA_PROPERTIES_PREFIX.length()), e.getValue());
            }
        }
        String mechanism = props.getProperty("sasl.mechanism", "");
        String user = env.get(ENV_SASL_USERNAME);
        String password = env.get(ENV_SASL_PASSWORD);
        if (!props.containsKey("sasl.jaas.config") && user != null && password != null) {
            String module =
                    mechanism.startsWith("SCRAM-")
                            ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                            : mechanism.equals("PLAIN")
                                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                                    : null;
            if (module == null) {
                throw new IllegalArgumentException(
                        ENV_SASL_USERNAME
                                + " and "
                                + ENV_SASL_PASSWORD
                                + " need sasl.mechanism"
                                + " SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN, got '"
                                + mechanism
                                + "'");
            }
            props.setProperty(
                    "sasl.jaas.config",
                    module
                            + " required username=\""
                            + escape(user)
                            + "\" password=\""
                            + escape(password)
                            + "\";");
        }
        return props;
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}

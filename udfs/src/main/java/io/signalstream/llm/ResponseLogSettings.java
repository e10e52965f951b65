package io.signalstream.llm;

import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a provider's durable response log lives ({@link ResponseLog}), read from {@link
 * ProviderOptions}: on when {@code response-log.enabled} (default true), the job names its Kafka
 * ({@link JobOptions#BOOTSTRAP_SERVERS} set explicitly) and the cache is on.
 *
 * <p>A record, so that two equal provider configurations share one runtime: {@link
 * #kafkaProperties} compares by content. {@link #toString()} leaves the properties out (they may
 * hold {@code sasl.jaas.config}).
 *
 * @param enabled whether answers are appended and the cache warmed
 * @param topic the compacted topic
 * @param bootstrapServers Kafka bootstrap servers, or null when off
 * @param warmupTimeout upper bound of the warm-up read
 * @param kafkaProperties Kafka client properties (security), by Kafka name; never null
 */
public record ResponseLogSettings(
        boolean enabled,
        String topic,
        String bootstrapServers,
        Duration warmupTimeout,
        Map<String, String> kafkaProperties)
        implements Serializable {

    /** The log switched off. */
    public static final ResponseLogSettings OFF =
            new ResponseLogSettings(false, null, null, Duration.ZERO, Map.of());

    public ResponseLogSettings {
        kafkaProperties = Map.copyOf(kafkaProperties);
    }

    /**
     * Reads the response-log settings of a provider.
     *
     * @param conf job configuration
     * @param provider provider name
     * @param cacheSize the provider's cache size: 0 switches the log off (nothing to warm)
     */
    public static ResponseLogSettings from(ReadableConfig conf, String provider, int cacheSize) {
        boolean on =
                conf.get(ProviderOptions.responseLogEnabled(provider))
                        && conf.getOptional(JobOptions.BOOTSTRAP_SERVERS).isPresent()
                        && cacheSize > 0;
        if (!on) {
            return OFF;
        }
        return new ResponseLogSettings(
                true,
                conf.get(ProviderOptions.responseLogTopic(provider)).trim(),
                conf.get(JobOptions.BOOTSTRAP_SERVERS),
                conf.get(ProviderOptions.responseLogWarmupTimeout(provider)),
                kafkaProperties(conf));
    }

    /** The {@code signalstream.kafka.properties.<name>} options as Kafka client properties. */
    static Map<String, String> kafkaProperties(ReadableConfig conf) {
        Map<String, String> props = new TreeMap<>();
        for (Map.Entry<String, String> e : conf.toMap().entrySet()) {
            if (e.getKey().startsWith(JobOptions.KAFKA_PROPERTIES_PREFIX)) {
                props.put(
                        e.getKey().substring(JobOptions.KAFKA_PROPERTIES_PREFIX.length()),
                        e.getValue());
            }
        }
        return props;
    }

    /** The settings without the Kafka properties, for logs. */
    @Override
    public String toString() {
        return enabled
                ? "ResponseLogSettings{" + topic + " on " + bootstrapServers + "}"
                : "ResponseLogSettings{off}";
    }
}

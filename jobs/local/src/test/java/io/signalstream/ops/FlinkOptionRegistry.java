package io.signalstream.ops;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.JobConfigLoader;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.MetricOptions;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every {@link ConfigOption} Flink and the job declare, found the way Flink's own docs generator
 * finds them: the public static {@code ConfigOption} fields of the {@code *Options} classes in the
 * Flink jars on the class path (core, runtime, RocksDB, metrics, table, connectors), plus the job's
 * {@link JobOptions}, {@link AgentOptions} and {@link ProviderOptions} (whose per-agent and
 * per-provider keys are built by their static methods).
 */
final class FlinkOptionRegistry {

    private static final Pattern AGENT_KEY =
            Pattern.compile("signalstream\\.agents\\.([a-z0-9-]+)\\..+");
    private static final Pattern PROVIDER_KEY =
            Pattern.compile("signalstream\\.providers\\.([a-z0-9-]+)\\..+");
    private static final Pattern REPORTER_KEY =
            Pattern.compile("metrics\\.reporter\\.([^.]+)\\.(.+)");

    private final Map<String, ConfigOption<?>> options = new HashMap<>();
    private final Set<String> optionClasses = new HashSet<>();

    private FlinkOptionRegistry() {}

    /** Scans the class path once. */
    static FlinkOptionRegistry scan() throws IOException {
        FlinkOptionRegistry r = new FlinkOptionRegistry();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            File f = new File(entry);
            if (f.isFile() && f.getName().startsWith("flink-") && f.getName().endsWith(".jar")) {
                try (JarFile jar = new JarFile(f)) {
                    Enumeration<JarEntry> entries = jar.entries();
                    while (entries.hasMoreElements()) {
                        String name = entries.nextElement().getName();
                        if (name.startsWith("org/apache/flink/")
                                && name.endsWith("Options.class")
                                && !name.contains("$")) {
                            r.addClass(name.substring(0, name.length() - 6).replace('/', '.'));
                        }
                    }
                }
            }
        }
        for (Class<?> c : List.of(JobOptions.class, AgentOptions.class, ProviderOptions.class)) {
            r.addClass(c.getName());
        }
        return r;
    }

    private void addClass(String className) {
        Class<?> c;
        try {
            c = Class.forName(className, true, getClass().getClassLoader());
        } catch (Throwable e) {
            return; // an optional dependency of that class is missing: not a source of options
        }
        for (Field field : c.getFields()) {
            if (Modifier.isStatic(field.getModifiers())
                    && ConfigOption.class.isAssignableFrom(field.getType())) {
                try {
                    add((ConfigOption<?>) field.get(null));
                    optionClasses.add(className);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private void add(ConfigOption<?> option) {
        options.putIfAbsent(option.key(), option);
        for (FallbackKey k : option.fallbackKeys()) {
            options.putIfAbsent(k.getKey(), option);
        }
    }

    /** How many options were found. */
    int size() {
        return options.size();
    }

    /** The classes that declared them. */
    Set<String> optionClasses() {
        return optionClasses;
    }

    /**
     * The option of a key, resolving the templated ones: {@code signalstream.agents.<agent>.*},
     * {@code signalstream.providers.<name>.*} and {@code metrics.reporter.<name>.*} (the
     * reporter-scoped {@link MetricOptions} and the Prometheus reporter's own {@code port}).
     *
     * @return the option, or null if no such key exists
     */
    ConfigOption<?> find(String key) {
        ConfigOption<?> o = options.get(key);
        if (o != null) {
            return o;
        }
        Matcher m = AGENT_KEY.matcher(key);
        if (m.matches()) {
            return templated(AgentOptions.class, m.group(1), key);
        }
        m = PROVIDER_KEY.matcher(key);
        if (m.matches()) {
            return templated(ProviderOptions.class, m.group(1), key);
        }
        m = REPORTER_KEY.matcher(key);
        if (m.matches()) {
            String suffix = m.group(2);
            for (ConfigOption<?> reporterOption : reporterOptions()) {
                if (reporterOption.key().equals(suffix)) {
                    return reporterOption;
                }
            }
        }
        return null;
    }

    /**
     * The problems of one key and value: an unknown key, a value its option cannot parse, or a
     * Kafka client property Kafka does not know.
     *
     * @return empty if the entry is fine
     */
    List<String> check(String key, String value) {
        List<String> problems = new ArrayList<>();
        if (key.startsWith(JobConfigLoader.KAFKA_PROPERTIES_PREFIX)) {
            String property = key.substring(JobConfigLoader.KAFKA_PROPERTIES_PREFIX.length());
            if (!ConsumerConfig.configNames().contains(property)
                    && !ProducerConfig.configNames().contains(property)
                    && !AdminClientConfig.configNames().contains(property)) {
                problems.add(key + ": '" + property + "' is not a Kafka client property");
            }
            return problems;
        }
        ConfigOption<?> option = find(key);
        if (option == null) {
            problems.add(key + ": not a Flink or SignalStream option");
            return problems;
        }
        Configuration c = new Configuration();
        c.setString(option.key(), value);
        try {
            c.get(option);
        } catch (RuntimeException e) {
            problems.add(key + ": value '" + value + "' does not parse: " + e.getMessage());
        }
        return problems;
    }

    private static List<ConfigOption<?>> reporterOptions() {
        List<ConfigOption<?>> list = new ArrayList<>();
        for (Field field : MetricOptions.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers())
                    && ConfigOption.class.isAssignableFrom(field.getType())) {
                try {
                    ConfigOption<?> o = (ConfigOption<?>) field.get(null);
                    if (!o.key().startsWith("metrics.")) {
                        list.add(o); // reporter-scoped options have keys relative to the reporter
                    }
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        // PrometheusReporterFactory reads "port" (no ConfigOption constant in Flink 2.2).
        list.add(
                org.apache.flink.configuration.ConfigOptions.key("port")
                        .stringType()
                        .defaultValue("9249"));
        return list;
    }

    private static ConfigOption<?> templated(Class<?> holder, String name, String key) {
        for (Method m : holder.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())
                    && ConfigOption.class.isAssignableFrom(m.getReturnType())
                    && m.getParameterCount() == 1
                    && m.getParameterTypes()[0] == String.class) {
                try {
                    ConfigOption<?> o = (ConfigOption<?>) m.invoke(null, name);
                    if (o.key().equals(key)) {
                        return o;
                    }
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return null;
    }
}

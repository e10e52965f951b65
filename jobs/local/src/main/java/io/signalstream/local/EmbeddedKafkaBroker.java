package io.signalstream.local;

import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.jobs.kafka.Polling;

import kafka.server.KafkaRaftServer;
import kafka.server.Server;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real, single-node Apache Kafka broker running in KRaft combined mode (broker and controller in
 * one node) inside the current JVM, listening on {@code 127.0.0.1} only.
 *
 * <p>This is the embedded default of the {@code demo} command and of the integration tests: no
 * Docker, no external process, no network other than loopback. The broker is {@link
 * KafkaRaftServer} from {@code org.apache.kafka:kafka_2.13}, exactly the server the {@code
 * kafka-server-start.sh} script runs.
 *
 * <p>Storage: the log directory is formatted on first use (random cluster id, node id {@value
 * #NODE_ID}, the latest production KRaft metadata version of the Kafka release on the classpath),
 * like {@code kafka-storage.sh format} does. A directory that is already formatted is reused as is,
 * so a broker can be {@linkplain #stop() stopped} and started again with {@link #start(Path, int)}
 * on the same directory and port, keeping its topics, records, committed offsets and transaction
 * state. The controller quorum is static ({@code controller.quorum.voters}), so the internal
 * controller port may differ between runs.
 *
 * <p>Single-node defaults (all replication factors and min ISRs are 1, {@code num.partitions=2},
 * {@code auto.create.topics.enable=false}, {@code group.initial.rebalance.delay.ms=0}, small
 * segments); see {@link #defaultBrokerProperties}. Any of them can be replaced through {@link
 * #start(Path, int, Map)}.
 *
 * <p><b>Transactions:</b> {@code transaction.max.timeout.ms} is left at the Kafka default of 15
 * minutes ({@value #TRANSACTION_MAX_TIMEOUT_MS} ms). Transactional producers, in particular Flink's
 * exactly-once Kafka sink, must set {@code transaction.timeout.ms} to at most this value, otherwise
 * {@code initTransactions()} fails with {@code InvalidTxnTimeoutException}.
 *
 * <p><b>Process-wide effects:</b> Kafka logs through SLF4J; this class ships no logging
 * configuration. Kafka's fatal-fault handlers call {@code org.apache.kafka.common.utils.Exit.halt}
 * on unrecoverable metadata errors, which terminates the JVM; this class does not change that.
 *
 * <p>Instances are thread-safe. An instance runs once: after {@link #stop()} use {@link
 * #start(Path, int)} again to get a new running broker.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /** The KRaft node id of the embedded broker/controller. */
    public static final int NODE_ID = 1;

    /** How long {@code start} waits for the broker to accept requests before failing. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

    /** How long {@link #createTopics(Map)} waits for the topics to be created and led. */
    public static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);

    /** The broker's maximum transaction timeout in milliseconds (Kafka default, 15 minutes). */
    public static final long TRANSACTION_MAX_TIMEOUT_MS = 900_000L;

    /** Name of the client listener. */
    public static final String BROKER_LISTENER_NAME = "PLAINTEXT";

    /** Name of the KRaft controller listener. */
    public static final String CONTROLLER_LISTENER_NAME = "CONTROLLER";

    /**
     * Override key (not a Kafka property) whose value is appended to {@code listeners} and {@code
     * advertised.listeners}, e.g. {@code SASL://127.0.0.1:9095} for a second, secured listener next
     * to the plaintext one this class uses itself.
     */
    public static final String EXTRA_LISTENERS = "extra.listeners";

    private static final String HOST = "127.0.0.1";
    private static final String KAFKA_CONFIG_CLASS = "kafka.server.KafkaConfig";
    private static final String META_PROPERTIES = "meta.properties";
    private static final int BIND_ATTEMPTS = 3;
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private final Path logDir;
    private final int port;
    private final int controllerPort;
    private final String clusterId;
    private final Map<String, String> adminClientProperties;
    private final Object lock = new Object();

    private Server server;
    private Admin admin;
    private boolean stopped;

    /**
     * Per-topic creation settings.
     *
     * @param partitions number of partitions, at least 1
     * @param configs topic-level configs (for example {@code cleanup.policy}); {@code null} means
     *     none. The replication factor is always 1.
     */
    public record TopicSpec(int partitions, Map<String, String> configs) {

        /**
         * Validates and copies the arguments.
         *
         * @param partitions number of partitions, at least 1
         * @param configs topic-level configs, {@code null} for none; copied
         * @throws IllegalArgumentException if {@code partitions < 1}
         */
        public TopicSpec {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
            }
            configs = configs == null ? Map.of() : Map.copyOf(configs);
        }

        /**
         * A topic spec without topic-level configs.
         *
         * @param partitions number of partitions, at least 1
         * @return the spec
         * @throws IllegalArgumentException if {@code partitions < 1}
         */
        public static TopicSpec of(int partitions) {
            return new TopicSpec(partitions, Map.of());
        }
    }

    private EmbeddedKafkaBroker(
            Path logDir,
            int port,
            int controllerPort,
            String clusterId,
            Server server,
            Map<String, String> adminClientProperties) {
        this.logDir = logDir;
        this.port = port;
        this.controllerPort = controllerPort;
        this.clusterId = clusterId;
        this.server = server;
        this.adminClientProperties = adminClientProperties;
    }

    /**
     * Starts a broker on a free loopback port. Equivalent to {@code start(logDir, 0)}.
     *
     * @param logDir the Kafka log (and KRaft metadata) directory; created if missing, formatted if
     *     not formatted yet, reused otherwise
     * @return the running broker, ready to serve requests: registered, and every partition already
     *     in the log directory is served by its leader again
     * @throws IllegalStateException if the broker cannot be started or is not ready within {@link
     *     #STARTUP_TIMEOUT}, or the directory is formatted for another node
     * @throws UncheckedIOException if the directory cannot be created or formatted
     */
    public static EmbeddedKafkaBroker start(Path logDir) {
        return start(logDir, 0, Map.of());
    }

    /**
     * Starts a broker listening on {@code 127.0.0.1:port}.
     *
     * @param logDir the Kafka log (and KRaft metadata) directory; created if missing, formatted if
     *     not formatted yet, reused otherwise
     * @param port the TCP port of the client listener, 0 to pick a free one (the port actually
     *     bound is reported by {@link #port()})
     * @return the running broker, ready to serve requests: registered, and every partition already
     *     in the log directory is served by its leader again
     * @throws IllegalArgumentException if {@code port} is not in {@code [0, 65535]}
     * @throws IllegalStateException if the broker cannot be started (for example the port is in
     *     use) or is not ready within {@link #STARTUP_TIMEOUT}
     * @throws UncheckedIOException if the directory cannot be created or formatted
     */
    public static EmbeddedKafkaBroker start(Path logDir, int port) {
        return start(logDir, port, Map.of());
    }

    /**
     * Starts a broker listening on {@code 127.0.0.1:port} with extra broker properties.
     *
     * <p>{@code overrides} are applied on top of {@link #defaultBrokerProperties(int, int)} and win
     * over them (for example {@code listener.security.protocol.map} and {@code sasl.*} settings),
     * except {@code log.dir}/{@code log.dirs}, which are always {@code logDir}. Properties prefixed
     * with {@code admin.client.} are not passed to the broker; they are given, without the prefix,
     * to the Admin client this class uses for readiness checks and {@link #createTopics(Map)} (for
     * example {@code admin.client.sasl.jaas.config}).
     *
     * @param logDir the Kafka log (and KRaft metadata) directory; created if missing, formatted if
     *     not formatted yet, reused otherwise
     * @param port the TCP port of the client listener, 0 to pick a free one
     * @param overrides extra or replacing broker properties, may be empty, not {@code null}
     * @return the running broker, ready to serve requests: registered, and every partition already
     *     in the log directory is served by its leader again
     * @throws IllegalArgumentException if {@code port} is out of range
     * @throws org.apache.kafka.common.config.ConfigException if the resulting broker configuration
     *     is invalid
     * @throws IllegalStateException if the broker cannot be started or is not ready within {@link
     *     #STARTUP_TIMEOUT}
     * @throws UncheckedIOException if the directory cannot be created or formatted
     */
    public static EmbeddedKafkaBroker start(Path logDir, int port, Map<String, String> overrides) {
        Objects.requireNonNull(logDir, "logDir");
        Objects.requireNonNull(overrides, "overrides");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        Path dir = logDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create Kafka log directory " + dir, e);
        }
        Map<String, String> brokerOverrides = new LinkedHashMap<>();
        Map<String, String> adminProps = new HashMap<>();
        overrides.forEach(
                (k, v) -> {
                    if (k.startsWith("admin.client.")) {
                        adminProps.put(k.substring("admin.client.".length()), v);
                    } else {
                        brokerOverrides.put(k, v);
                    }
                });

        RuntimeException lastBindFailure = null;
        for (int attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
            int brokerPort = port == 0 ? freePort() : port;
            int controllerPort = freePort(brokerPort);
            try {
                return startOnce(dir, brokerPort, controllerPort, brokerOverrides, adminProps);
            } catch (RuntimeException e) {
                if (!isBindFailure(e)) {
                    throw e;
                }
                lastBindFailure = e;
                if (port != 0) {
                    // A fixed client port may still be held by a closing socket: retry shortly,
                    // the controller port is picked anew anyway.
                    sleepQuietly(Duration.ofMillis(500));
                }
                LOG.warn(
                        "Embedded Kafka could not bind its ports (attempt {}/{}): {}",
                        attempt,
                        BIND_ATTEMPTS,
                        e.getMessage());
            }
        }
        throw new IllegalStateException(
                "Embedded Kafka broker could not bind 127.0.0.1:"
                        + (port == 0 ? "<free port>" : port)
                        + " after "
                        + BIND_ATTEMPTS
                        + " attempts (port already in use?)",
                lastBindFailure);
    }

    private static EmbeddedKafkaBroker startOnce(
            Path dir,
            int brokerPort,
            int controllerPort,
            Map<String, String> overrides,
            Map<String, String> adminProps) {
        Properties props = new Properties();
        props.putAll(defaultBrokerProperties(brokerPort, controllerPort));
        props.putAll(overrides);
        String extra = (String) props.remove(EXTRA_LISTENERS);
        if (extra != null && !extra.isBlank()) {
            props.setProperty("listeners", props.getProperty("listeners") + "," + extra);
            props.setProperty(
                    "advertised.listeners",
                    props.getProperty("advertised.listeners") + "," + extra);
        }
        // Formatting and reuse detection are tied to this one directory: not overridable.
        props.remove("log.dir");
        props.setProperty("log.dirs", dir.toString());
        // Validates the configuration before anything is written to the directory.
        Object config = newKafkaConfig(props);

        String clusterId = formatIfNeeded(dir, props);

        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        Server server = newRaftServer(config);
        EmbeddedKafkaBroker broker =
                new EmbeddedKafkaBroker(
                        dir, brokerPort, controllerPort, clusterId, server, Map.copyOf(adminProps));
        try {
            server.startup();
            broker.awaitReady(deadline);
        } catch (RuntimeException | Error e) {
            broker.stopQuietly();
            if (isBindFailure(e) || e instanceof IllegalStateException) {
                throw e;
            }
            throw new IllegalStateException(
                    "Embedded Kafka broker failed to start on "
                            + HOST
                            + ":"
                            + brokerPort
                            + " with log dir "
                            + dir
                            + ": "
                            + e,
                    e);
        }
        LOG.info(
                "Embedded Kafka broker started at {} (cluster id {}, log dir {})",
                broker.bootstrapServers(),
                clusterId,
                dir);
        return broker;
    }

    /**
     * The built-in broker properties for a single-node combined broker/controller, before {@code
     * log.dirs} and user overrides are applied.
     *
     * @param brokerPort the client listener port
     * @param controllerPort the controller listener port
     * @return a new mutable map of broker property names to values
     */
    public static Map<String, String> defaultBrokerProperties(int brokerPort, int controllerPort) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put(
                "listeners",
                BROKER_LISTENER_NAME
                        + "://"
                        + HOST
                        + ":"
                        + brokerPort
                        + ","
                        + CONTROLLER_LISTENER_NAME
                        + "://"
                        + HOST
                        + ":"
                        + controllerPort);
        p.put("advertised.listeners", BROKER_LISTENER_NAME + "://" + HOST + ":" + brokerPort);
        p.put(
                "listener.security.protocol.map",
                BROKER_LISTENER_NAME + ":PLAINTEXT," + CONTROLLER_LISTENER_NAME + ":PLAINTEXT");
        p.put("inter.broker.listener.name", BROKER_LISTENER_NAME);
        p.put("controller.listener.names", CONTROLLER_LISTENER_NAME);
        // Static quorum: the voter endpoint lives in the config, not in the formatted metadata,
        // so the controller port can change across restarts on the same directory.
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);

        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("transaction.max.timeout.ms", Long.toString(TRANSACTION_MAX_TIMEOUT_MS));
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("num.partitions", "2");
        p.put("auto.create.topics.enable", "false");
        p.put("group.initial.rebalance.delay.ms", "0");

        // Small footprint: 8 MiB segments (Kafka 4 rejects less than 1 MiB), small indexes,
        // a small cleaner buffer (the default pre-allocates 128 MiB) and few threads.
        p.put("log.segment.bytes", Integer.toString(8 * 1024 * 1024));
        p.put("log.index.size.max.bytes", Integer.toString(1024 * 1024));
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("background.threads", "4");
        p.put("server.max.startup.time.ms", Long.toString(STARTUP_TIMEOUT.toMillis()));
        return p;
    }

    /**
     * The client bootstrap address.
     *
     * @return {@code "127.0.0.1:PORT"} with the bound client listener port
     */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    /**
     * The bound client listener port.
     *
     * @return the TCP port, never 0
     */
    public int port() {
        return port;
    }

    /**
     * The KRaft controller listener port of this run (chosen freely at each start).
     *
     * @return the TCP port
     */
    public int controllerPort() {
        return controllerPort;
    }

    /**
     * The log directory the broker uses.
     *
     * @return the absolute, normalized directory
     */
    public Path logDir() {
        return logDir;
    }

    /**
     * The Kafka cluster id stored in the log directory.
     *
     * @return the cluster id, stable across restarts on the same directory
     */
    public String clusterId() {
        return clusterId;
    }

    /**
     * Whether {@link #stop()} has been called (or the start failed).
     *
     * @return {@code true} if the broker is running
     */
    public boolean isRunning() {
        synchronized (lock) {
            return !stopped;
        }
    }

    /**
     * Creates topics with replication factor 1 and waits, up to {@link #ADMIN_TIMEOUT}, until every
     * partition is served by its leader. Idempotent: topics that already exist are left unchanged
     * (their partition count and configs are not altered) and are not an error.
     *
     * @param topics topic names mapped to their specs; empty is a no-op
     * @throws IllegalStateException if the broker is stopped, a creation fails for another reason
     *     than the topic already existing, or the topics are not ready within {@link
     *     #ADMIN_TIMEOUT}
     */
    public void createTopics(Map<String, TopicSpec> topics) {
        Objects.requireNonNull(topics, "topics");
        if (topics.isEmpty()) {
            return;
        }
        Admin client = adminOrThrow();
        long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
        List<NewTopic> newTopics = new ArrayList<>();
        topics.forEach(
                (name, spec) ->
                        newTopics.add(
                                new NewTopic(
                                                name,
                                                Optional.of(spec.partitions()),
                                                Optional.of((short) 1))
                                        .configs(spec.configs())));
        Map<String, KafkaFuture<Void>> results = client.createTopics(newTopics).values();
        for (Map.Entry<String, KafkaFuture<Void>> e : results.entrySet()) {
            try {
                e.getValue().get(Polling.remainingMillis(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException(
                            "Cannot create topic '"
                                    + e.getKey()
                                    + "' on "
                                    + bootstrapServers()
                                    + ": "
                                    + ex.getCause(),
                            ex.getCause());
                }
            } catch (TimeoutException ex) {
                throw new IllegalStateException(
                        "Timed out after "
                                + ADMIN_TIMEOUT
                                + " creating topic '"
                                + e.getKey()
                                + "' on "
                                + bootstrapServers(),
                        ex);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while creating topics", ex);
            }
        }
        KafkaTopics.awaitServed(
                client,
                topics.keySet(),
                deadline,
                "Topics "
                        + topics.keySet()
                        + " on "
                        + bootstrapServers()
                        + " were not served by a leader within "
                        + ADMIN_TIMEOUT);
    }

    /**
     * Stops the broker in an orderly way (controlled shutdown, logs flushed and closed) and waits
     * until it is down. Safe to call more than once and from several threads; later calls return
     * immediately. Never throws: shutdown errors are logged.
     */
    public void stop() {
        synchronized (lock) {
            if (stopped) {
                return;
            }
            stopped = true;
            if (admin != null) {
                try {
                    admin.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.warn("Error closing the embedded Kafka admin client", e);
                }
                admin = null;
            }
            if (server != null) {
                try {
                    server.shutdown();
                    server.awaitShutdown();
                } catch (RuntimeException e) {
                    LOG.warn(
                            "Error shutting down the embedded Kafka broker at {}",
                            bootstrapServers(),
                            e);
                }
                server = null;
            }
        }
        LOG.info("Embedded Kafka broker at {} stopped", bootstrapServers());
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "EmbeddedKafkaBroker[" + bootstrapServers() + ", logDir=" + logDir + "]";
    }

    // ------------------------------------------------------------------------------------------

    /**
     * Formats the directory unless a {@code meta.properties} file is already present, and returns
     * the cluster id stored in it. Formatting goes through {@link StorageTool#execute}, the
     * in-process entry point of {@code kafka-storage.sh format} that returns an exit code instead
     * of calling {@code Exit}; it formats with the latest production metadata version of the Kafka
     * release on the classpath and {@code kraft.version=0} (static quorum).
     */
    private static String formatIfNeeded(Path dir, Properties brokerProps) {
        Path metaFile = dir.resolve(META_PROPERTIES);
        if (Files.exists(metaFile)) {
            return readClusterId(metaFile);
        }
        String clusterId = Uuid.randomUuid().toString();
        ByteArrayOutputStream formatterOutput = new ByteArrayOutputStream();
        Path configFile = null;
        try {
            configFile = Files.createTempFile("signalstream-kafka-format-", ".properties");
            try (OutputStream out = Files.newOutputStream(configFile)) {
                brokerProps.store(out, "embedded Kafka broker, used for formatting only");
            }
            int exitCode;
            try (PrintStream out = new PrintStream(formatterOutput, true, StandardCharsets.UTF_8)) {
                exitCode =
                        StorageTool.execute(
                                new String[] {
                                    "format",
                                    "--config",
                                    configFile.toString(),
                                    "--cluster-id",
                                    clusterId
                                },
                                out);
            }
            String output = formatterOutput.toString(StandardCharsets.UTF_8).trim();
            if (exitCode != 0) {
                throw new IllegalStateException(
                        "Formatting Kafka storage "
                                + dir
                                + " failed with exit code "
                                + exitCode
                                + ": "
                                + output);
            }
            LOG.debug("Formatted Kafka storage {}: {}", dir, output);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot format Kafka storage directory " + dir, e);
        } catch (RuntimeException e) {
            if (e instanceof IllegalStateException) {
                throw e;
            }
            throw new IllegalStateException(
                    "Cannot format Kafka storage directory " + dir + ": " + e.getMessage(), e);
        } finally {
            if (configFile != null) {
                try {
                    Files.deleteIfExists(configFile);
                } catch (IOException e) {
                    LOG.debug("Cannot delete {}", configFile, e);
                }
            }
        }
        return clusterId;
    }

    /**
     * {@code KafkaConfig.fromProps(props, false)} (no config dump in the log). Called reflectively
     * because {@code kafka.server.KafkaConfig} extends {@code
     * org.apache.kafka.server.config.AbstractKafkaConfig} from {@code kafka-server}, which {@code
     * kafka_2.13} declares with runtime scope, so javac cannot see the type hierarchy.
     */
    private static Object newKafkaConfig(Properties props) {
        try {
            Class<?> configClass = Class.forName(KAFKA_CONFIG_CLASS);
            return configClass
                    .getMethod("fromProps", Properties.class, boolean.class)
                    .invoke(null, props, false);
        } catch (InvocationTargetException e) {
            throw rethrow(e.getCause(), "Invalid embedded Kafka broker configuration");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Kafka "
                            + KAFKA_CONFIG_CLASS
                            + ".fromProps(Properties, boolean) not found; is kafka_2.13 4.x on the"
                            + " classpath?",
                    e);
        }
    }

    /** {@code new KafkaRaftServer(config, Time.SYSTEM)}, reflectively for the reason above. */
    private static Server newRaftServer(Object config) {
        try {
            return KafkaRaftServer.class
                    .getConstructor(config.getClass(), Time.class)
                    .newInstance(config, Time.SYSTEM);
        } catch (InvocationTargetException e) {
            throw rethrow(e.getCause(), "Cannot create the embedded Kafka server");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Kafka KafkaRaftServer(KafkaConfig, Time) not found; "
                            + "is kafka_2.13 4.x on the classpath?",
                    e);
        }
    }

    private static RuntimeException rethrow(Throwable cause, String message) {
        if (cause instanceof RuntimeException) {
            return (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        return new IllegalStateException(message + ": " + cause, cause);
    }

    private static String readClusterId(Path metaFile) {
        Properties meta = new Properties();
        try (var in = Files.newInputStream(metaFile)) {
            meta.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + metaFile, e);
        }
        String nodeId = meta.getProperty("node.id");
        if (nodeId != null && !nodeId.trim().equals(Integer.toString(NODE_ID))) {
            throw new IllegalStateException(
                    metaFile
                            + " is formatted for node.id "
                            + nodeId
                            + ", the embedded broker is node "
                            + NODE_ID);
        }
        return meta.getProperty("cluster.id", "unknown");
    }

    /**
     * Waits until the node is registered and, on a restart over an existing log directory, every
     * partition already there (internal ones too) is served by its leader again, so that a client
     * connecting right after {@code start} does not race the leader election.
     */
    private void awaitReady(long deadline) {
        Admin client = adminOrThrow();
        String notReady =
                "Embedded Kafka broker at "
                        + bootstrapServers()
                        + " was not ready within "
                        + STARTUP_TIMEOUT;
        Polling.until(
                deadline,
                notReady + " (describeCluster did not list node " + NODE_ID + ")",
                d -> {
                    Collection<Node> nodes =
                            client.describeCluster()
                                    .nodes()
                                    .get(Polling.callMillis(d), TimeUnit.MILLISECONDS);
                    boolean registered =
                            nodes.stream().anyMatch(n -> n.id() == NODE_ID && n.port() == port);
                    return registered ? null : "cluster nodes are " + nodes;
                });
        Set<String> existing = new HashSet<>();
        Polling.until(
                deadline,
                notReady + " (could not list its topics)",
                d -> {
                    existing.addAll(
                            client.listTopics(new ListTopicsOptions().listInternal(true))
                                    .names()
                                    .get(Polling.callMillis(d), TimeUnit.MILLISECONDS));
                    return null;
                });
        if (!existing.isEmpty()) {
            KafkaTopics.awaitServed(client, existing, deadline, notReady);
        }
    }

    private Admin adminOrThrow() {
        synchronized (lock) {
            if (stopped) {
                throw new IllegalStateException(
                        "Embedded Kafka broker at " + bootstrapServers() + " is stopped");
            }
            if (admin == null) {
                Map<String, Object> conf = new HashMap<>();
                conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
                conf.put(AdminClientConfig.CLIENT_ID_CONFIG, "signalstream-embedded-kafka-admin");
                conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
                conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
                conf.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
                conf.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
                conf.putAll(adminClientProperties);
                admin = Admin.create(conf);
            }
            return admin;
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            LOG.debug("Error stopping a broker that failed to start", e);
        }
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static int freePort(int... excluded) {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                socket.setReuseAddress(true);
                int candidate = socket.getLocalPort();
                boolean clash = false;
                for (int ex : excluded) {
                    clash |= ex == candidate;
                }
                if (!clash) {
                    return candidate;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot find a free port on " + HOST, e);
            }
        }
        throw new IllegalStateException("Cannot find a free port on " + HOST);
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }
}

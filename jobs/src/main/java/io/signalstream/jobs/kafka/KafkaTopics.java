package io.signalstream.jobs.kafka;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;

import org.apache.flink.configuration.ReadableConfig;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The job's topics and their creation through the Kafka Admin API. */
public final class KafkaTopics {

    /** How long {@link #create} waits for the topics to be served by their leaders. */
    public static final Duration SERVED_TIMEOUT = Duration.ofSeconds(60);

    private KafkaTopics() {}

    /**
     * The topics of the job as configured: input and outputs with {@code partitions} partitions,
     * the aggregated topic compacted (key {@code tenant:conversation}, newest version kept), the
     * dead-letter topic with one partition; the feedback input and the learning signals with {@code
     * partitions} partitions; and the LLM response log of each remote provider that keeps one
     * ({@code support.llm-responses} by default: compacted, retention = cache TTL).
     *
     * @param conf job configuration (topic names, enabled agents)
     * @param partitions partitions of the per-conversation topics
     * @param replication replication factor (1 for the embedded broker)
     */
    public static List<NewTopic> layout(ReadableConfig conf, int partitions, short replication) {
        List<NewTopic> topics = new ArrayList<>();
        topics.add(new NewTopic(conf.get(JobOptions.TOPIC_INPUT), partitions, replication));
        topics.add(new NewTopic(conf.get(JobOptions.TOPIC_STATE), partitions, replication));
        for (String agent : conf.get(AgentOptions.ENABLED)) {
            topics.add(
                    new NewTopic(
                            conf.get(JobOptions.TOPIC_AGENT_PREFIX) + agent.trim(),
                            partitions,
                            replication));
        }
        topics.add(
                new NewTopic(conf.get(JobOptions.TOPIC_AGGREGATED), partitions, replication)
                        .configs(Map.of("cleanup.policy", "compact")));
        topics.add(new NewTopic(conf.get(JobOptions.TOPIC_LINEAGE), partitions, replication));
        topics.add(new NewTopic(conf.get(JobOptions.TOPIC_DLQ), 1, replication));
        topics.add(new NewTopic(conf.get(JobOptions.TOPIC_FEEDBACK), partitions, replication));
        topics.add(
                new NewTopic(conf.get(JobOptions.TOPIC_LEARNING_SIGNALS), partitions, replication));
        topics.add(new NewTopic(conf.get(JobOptions.TOPIC_ALERTS), partitions, replication));
        responseLogTopics(conf)
                .forEach(
                        (name, ttl) ->
                                topics.add(
                                        new NewTopic(name, partitions, replication)
                                                .configs(responseLogConfigs(ttl))));
        return topics;
    }

    /**
     * The LLM response-log topics of the remote providers the enabled agents use (primary and
     * fallback) with the log on, by name, each with the longest cache TTL of the providers that
     * share it.
     */
    static Map<String, Duration> responseLogTopics(ReadableConfig conf) {
        Map<String, Duration> topics = new TreeMap<>();
        for (String agent : conf.get(AgentOptions.ENABLED)) {
            for (String provider :
                    List.of(
                            conf.get(AgentOptions.provider(agent.trim())).trim(),
                            conf.get(AgentOptions.fallbackProvider(agent.trim())).trim())) {
                if (provider.equals("local")
                        || !conf.get(ProviderOptions.responseLogEnabled(provider))
                        || conf.get(ProviderOptions.cacheSize(provider)) <= 0) {
                    continue;
                }
                topics.merge(
                        conf.get(ProviderOptions.responseLogTopic(provider)).trim(),
                        conf.get(ProviderOptions.cacheTtl(provider)),
                        (a, b) -> a.compareTo(b) >= 0 ? a : b);
            }
        }
        return topics;
    }

    /**
     * Topic configuration of a response log: compacted (the newest answer per request hash) and
     * deleted after the cache TTL ({@code cleanup.policy=compact,delete}, {@code retention.ms} =
     * {@code segment.ms} = TTL), so an answer is kept for about the TTL and at most twice as long,
     * and one-off answers do not pile up forever as they would under compaction alone.
     */
    static Map<String, String> responseLogConfigs(Duration ttl) {
        String ms = String.valueOf(Math.max(1, ttl.toMillis()));
        return Map.of("cleanup.policy", "compact,delete", "retention.ms", ms, "segment.ms", ms);
    }

    /**
     * Waits until every partition of the topics has a leader and that leader serves it: the
     * metadata naming a leader can run ahead of the broker taking the partition on, and a producer
     * writing in that gap gets {@code NOT_LEADER_OR_FOLLOWER}. A {@code ListOffsets} answer from
     * every leader closes the gap.
     *
     * @param admin client of the cluster
     * @param names topic names
     * @param timeout how long to wait
     * @throws IllegalStateException with the last reason if not served within {@code timeout}, or
     *     when interrupted
     */
    public static void awaitServed(Admin admin, Collection<String> names, Duration timeout) {
        awaitServed(
                admin,
                names,
                System.nanoTime() + timeout.toNanos(),
                "Topics " + names + " were not served by a leader within " + timeout);
    }

    /**
     * Waits until every partition of the named topics is served by its leader, as the other
     * overload, until a {@link System#nanoTime()} deadline.
     *
     * @param deadlineNanos {@link System#nanoTime()} deadline
     * @param failure what the error message says did not happen
     * @throws IllegalStateException with {@code failure} and the last reason at the deadline, or
     *     when interrupted
     */
    public static void awaitServed(
            Admin admin, Collection<String> names, long deadlineNanos, String failure) {
        Polling.until(
                deadlineNanos,
                failure,
                d -> {
                    Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
                    for (TopicDescription t :
                            admin.describeTopics(names)
                                    .allTopicNames()
                                    .get(Polling.callMillis(d), TimeUnit.MILLISECONDS)
                                    .values()) {
                        for (TopicPartitionInfo p : t.partitions()) {
                            if (p.leader() == null || p.leader().isEmpty()) {
                                return t.name() + "-" + p.partition() + " has no leader";
                            }
                            partitions.put(
                                    new TopicPartition(t.name(), p.partition()),
                                    OffsetSpec.latest());
                        }
                    }
                    // Fails with NOT_LEADER_OR_FOLLOWER until every leader serves its partitions.
                    admin.listOffsets(partitions)
                            .all()
                            .get(Polling.callMillis(d), TimeUnit.MILLISECONDS);
                    return null;
                });
    }

    /**
     * Creates the topics that do not exist yet; existing topics are left as they are.
     *
     * @param bootstrapServers Kafka bootstrap servers
     * @param clientProperties extra Admin client properties (security)
     * @param topics topics to create
     * @throws IllegalStateException if the broker refuses, does not answer a call within 30 s, or
     *     the topics are not served by their leaders within {@link #SERVED_TIMEOUT}
     */
    public static void create(
            String bootstrapServers, Properties clientProperties, List<NewTopic> topics) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (NewTopic t : topics) {
                if (!existing.contains(t.name())) {
                    missing.add(t);
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    // Another client created one of them meanwhile: fine, wait for it below.
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException(
                                "cannot create topics on " + bootstrapServers + ": " + e.getCause(),
                                e.getCause());
                    }
                }
            }
            List<String> names = new ArrayList<>();
            topics.forEach(t -> names.add(t.name()));
            awaitServed(admin, names, SERVED_TIMEOUT);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "cannot list topics on " + bootstrapServers + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(
                    "interrupted creating topics on " + bootstrapServers, e);
        }
    }
}

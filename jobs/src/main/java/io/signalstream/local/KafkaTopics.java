package io.signalstream.local;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

/** The job's topics and their creation through the Kafka Admin API. */
public final class KafkaTopics {

    private KafkaTopics() {}

    /**
     * The topics of the job as configured: input and outputs with {@code partitions} partitions,
     * the aggregated topic compacted (key {@code tenant:conversation}, newest version kept), the
     * dead-letter topic with one partition.
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
        return topics;
    }

    /** Waits (up to 60 s) until every partition of the topics has a leader. */
    private static void awaitLeaders(Admin admin, List<NewTopic> topics) throws Exception {
        List<String> names = new ArrayList<>();
        topics.forEach(t -> names.add(t.name()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            boolean ready = true;
            try {
                for (TopicDescription d :
                        admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS).values()) {
                    for (TopicPartitionInfo p : d.partitions()) {
                        ready &= p.leader() != null && !p.leader().isEmpty();
                    }
                }
            } catch (ExecutionException | TimeoutException e) {
                ready = false; // not known yet to the broker answering, or a slow answer
            }
            if (ready) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topics " + names + " have no leader after 60 s");
            }
            Thread.sleep(100);
        }
    }

    /**
     * Creates the topics that do not exist yet; existing topics are left as they are.
     *
     * @param bootstrapServers Kafka bootstrap servers
     * @param clientProperties extra Admin client properties (security)
     * @param topics topics to create
     * @throws IllegalStateException if the broker refuses or does not answer within 30 s
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
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            }
            awaitLeaders(admin, topics);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException(
                        "cannot create topics on " + bootstrapServers + ": " + e.getCause(), e);
            }
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot create topics on " + bootstrapServers + ": " + e, e);
        }
    }
}

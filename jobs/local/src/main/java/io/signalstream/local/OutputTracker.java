package io.signalstream.local;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.ReadableConfig;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads every output topic as a {@code read_committed} consumer would and accounts for each input
 * record: it must end either as a snapshot whose version has exactly one aggregated record (and one
 * lineage record), or in the dead-letter topic.
 *
 * <p>Not thread-safe: one thread polls.
 */
public final class OutputTracker implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String stateTopic;
    private final String aggregatedTopic;
    private final String lineageTopic;
    private final String dlqTopic;
    private final String alertsTopic;

    /** alert_id → copies seen. */
    private final Map<String, Integer> alertIds = new HashMap<>();

    /** Every alert, in read order (first copy only). */
    private final List<JsonNode> alerts = new ArrayList<>();

    private final String agentPrefix;

    /** input "partition:offset" → "key#version" of its snapshot. */
    private final Map<String, String> snapshotBySource = new HashMap<>();

    private final Map<String, Integer> snapshots = new HashMap<>();
    private final Map<String, Integer> aggregated = new HashMap<>();
    private final Map<String, Integer> lineage = new HashMap<>();

    /** input "partition:offset" → dead-letter reason. */
    private final Map<String, String> deadLetters = new HashMap<>();

    private final Map<String, Integer> agentResults = new TreeMap<>();
    private final Map<String, Integer> agentStatuses = new TreeMap<>();
    private final Map<String, Integer> piiTypes = new TreeMap<>();
    private final Set<String> conversationsWithPii = new TreeSet<>();

    /** conversation key → newest aggregated record. */
    private final Map<String, JsonNode> latestAggregated = new TreeMap<>();

    private int complete;
    private int partial;
    private int lineageRecords;

    /**
     * Subscribes to every output topic from the beginning.
     *
     * @param bootstrapServers Kafka bootstrap servers
     * @param clientProperties extra consumer properties (security)
     * @param conf job configuration, for the topic names
     */
    public OutputTracker(
            String bootstrapServers, Properties clientProperties, ReadableConfig conf) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        stateTopic = conf.get(JobOptions.TOPIC_STATE);
        aggregatedTopic = conf.get(JobOptions.TOPIC_AGGREGATED);
        lineageTopic = conf.get(JobOptions.TOPIC_LINEAGE);
        dlqTopic = conf.get(JobOptions.TOPIC_DLQ);
        alertsTopic = conf.get(JobOptions.TOPIC_ALERTS);
        agentPrefix = conf.get(JobOptions.TOPIC_AGENT_PREFIX);
        List<String> topics =
                new ArrayList<>(
                        List.of(stateTopic, aggregatedTopic, lineageTopic, dlqTopic, alertsTopic));
        for (String agent : conf.get(AgentOptions.ENABLED)) {
            topics.add(agentPrefix + agent.trim());
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /**
     * Polls once and accounts for what arrived.
     *
     * @param timeout how long to wait for records
     * @return records read
     * @throws IOException if an output record is not valid JSON
     */
    public int poll(Duration timeout) throws IOException {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            n++;
            JsonNode v = Json.MAPPER.readTree(r.value());
            String topic = r.topic();
            if (topic.equals(stateTopic)) {
                String id = versionId(v);
                snapshots.merge(id, 1, Integer::sum);
                JsonNode src = v.path("source");
                snapshotBySource.put(
                        src.path("partition").asInt() + ":" + src.path("offset").asLong(), id);
            } else if (topic.equals(aggregatedTopic)) {
                aggregated.merge(versionId(v), 1, Integer::sum);
                if (v.path("complete").asBoolean()) {
                    complete++;
                } else {
                    partial++;
                }
                String key = new String(r.key(), StandardCharsets.UTF_8);
                JsonNode prev = latestAggregated.get(key);
                if (prev == null || prev.path("version").asLong() < v.path("version").asLong()) {
                    latestAggregated.put(key, v);
                }
            } else if (topic.equals(lineageTopic)) {
                lineageRecords++;
                lineage.merge(v.path("event_id").asText(), 1, Integer::sum);
            } else if (topic.equals(alertsTopic)) {
                if (alertIds.merge(v.path("alert_id").asText(), 1, Integer::sum) == 1) {
                    alerts.add(v);
                }
            } else if (topic.equals(dlqTopic)) {
                JsonNode src = v.path("source");
                deadLetters.put(
                        src.path("partition").asInt() + ":" + src.path("offset").asLong(),
                        v.path("error_type").asText());
            } else if (topic.startsWith(agentPrefix)) {
                String agent = topic.substring(agentPrefix.length());
                agentResults.merge(agent, 1, Integer::sum);
                agentStatuses.merge(v.path("status").asText(), 1, Integer::sum);
                if ("pii".equals(agent)) {
                    for (JsonNode e : v.path("result").path("entities")) {
                        piiTypes.merge(e.path("type").asText(), 1, Integer::sum);
                        conversationsWithPii.add(
                                v.path("tenant_id").asText()
                                        + ":"
                                        + v.path("conversation_id").asText());
                    }
                }
            }
        }
        return n;
    }

    private static String versionId(JsonNode v) {
        return v.path("tenant_id").asText()
                + ":"
                + v.path("conversation_id").asText()
                + "#"
                + v.path("version").asLong();
    }

    /**
     * Input records of {@code produced} that have neither an aggregated output nor a dead letter
     * yet. Records whose message id repeats an earlier one in the same conversation are expected to
     * be dropped as re-deliveries and are not counted.
     */
    public List<ConversationReplayer.Produced> missing(
            List<ConversationReplayer.Produced> produced) {
        List<ConversationReplayer.Produced> out = new ArrayList<>();
        Set<String> ids = new java.util.HashSet<>();
        for (ConversationReplayer.Produced p : produced) {
            String src = p.partition() + ":" + p.offset();
            if (deadLetters.containsKey(src)) {
                continue;
            }
            if (p.messageId() != null && !ids.add(p.key() + "/" + p.messageId())) {
                continue; // a re-delivery: dropped by design
            }
            String version = snapshotBySource.get(src);
            if (version == null || !aggregated.containsKey(version)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Extra copies of any snapshot, aggregated record, lineage record or alert (0 when exactly
     * once).
     */
    public int duplicates() {
        return extra(snapshots) + extra(aggregated) + extra(lineage) + extra(alertIds);
    }

    /** Distinct alerts seen, in read order. */
    public List<JsonNode> alerts() {
        return alerts;
    }

    /** Distinct alerts per type. */
    public Map<String, Integer> alertsPerType() {
        Map<String, Integer> m = new TreeMap<>();
        alerts.forEach(a -> m.merge(a.path("type").asText(), 1, Integer::sum));
        return m;
    }

    private static int extra(Map<String, Integer> counts) {
        int n = 0;
        for (int c : counts.values()) {
            n += c - 1;
        }
        return n;
    }

    /** Distinct snapshots seen. */
    public int snapshots() {
        return snapshots.size();
    }

    /** Distinct aggregated (conversation, version) records seen. */
    public int aggregated() {
        return aggregated.size();
    }

    /** Aggregated records with every scheduled agent. */
    public int complete() {
        return complete;
    }

    /** Aggregated records emitted when the join window closed. */
    public int partial() {
        return partial;
    }

    /** Lineage records seen. */
    public int lineageRecords() {
        return lineageRecords;
    }

    /** Dead letters seen. */
    public int deadLetters() {
        return deadLetters.size();
    }

    /** Dead letters per reason. */
    public Map<String, Integer> deadLetterReasons() {
        Map<String, Integer> m = new TreeMap<>();
        deadLetters.values().forEach(r -> m.merge(r, 1, Integer::sum));
        return m;
    }

    /** Agent results per agent. */
    public Map<String, Integer> agentResults() {
        return agentResults;
    }

    /** Agent results per status. */
    public Map<String, Integer> agentStatuses() {
        return agentStatuses;
    }

    /** PII entities found by the pii agent, per type, over all messages. */
    public Map<String, Integer> piiTypes() {
        return piiTypes;
    }

    /** Conversations in which the pii agent found at least one entity. */
    public Set<String> conversationsWithPii() {
        return conversationsWithPii;
    }

    /** The tenants whose conversations have aggregated output. */
    public java.util.Set<String> tenants() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        latestAggregated.values().forEach(v -> out.add(v.path("tenant_id").asText()));
        return out;
    }

    /** Newest aggregated record per conversation key. */
    public Map<String, JsonNode> latestAggregated() {
        return latestAggregated;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}

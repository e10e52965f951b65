package io.signalstream.api;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static io.signalstream.api.TopicReaders.caughtUp;
import static io.signalstream.api.TopicReaders.instant;
import static io.signalstream.api.TopicReaders.sleep;

/**
 * The API's materialized view: the newest aggregated record of every conversation, rebuilt at start
 * from the compacted {@code support.ai.aggregated} (read_committed, from the beginning, no consumer
 * group, so replicas are stateless), plus each conversation's latest messages from the snapshots on
 * {@code support.conversations.state}.
 *
 * <p>Memory: at most {@link ApiOptions#viewMaxConversations()} conversations (Caffeine's
 * size-bounded W-TinyLFU eviction, which drops rarely and long-ago updated ones first), each
 * holding one aggregated record (typically 1–3 KiB of JSON) and at most {@value #RECENT} latest
 * messages. An evicted conversation comes back with its next update.
 *
 * <p>It is ready once it has read both topics up to their end offsets of the moment it started;
 * updates read after that are handed to the listener (the WebSocket streams), the ones read while
 * catching up are not (they are history).
 */
final class ConversationView implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConversationView.class);

    /** Latest messages kept per conversation. */
    static final int RECENT = 10;

    /** One conversation's newest intelligence. */
    record Entry(
            String tenantId,
            String conversationId,
            long version,
            java.time.Instant lastUpdated,
            ObjectNode aggregated) {}

    private final ApiOptions options;
    private final Cache<String, Entry> entries;
    private final Cache<String, ArrayNode> recent;
    private final Consumer<Entry> listener;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private volatile boolean ready;
    private volatile long lag = -1;
    private volatile boolean closed;
    private volatile boolean stopped;

    /** The view's thread only: the aggregated topic's end offsets of the start, once assigned. */
    private Map<TopicPartition, Long> target;

    /** The view's thread only: when the lag was last measured ({@link System#nanoTime()}). */
    private long lastLagCheck;

    ConversationView(ApiOptions options, Consumer<Entry> listener) {
        this.options = options;
        this.listener = listener;
        this.entries = Caffeine.newBuilder().maximumSize(options.viewMaxConversations()).build();
        this.recent = Caffeine.newBuilder().maximumSize(options.viewMaxConversations()).build();
        this.consumer = TopicReaders.consumer(options, "signalstream-api-view", 2000, Map.of());
        this.thread = new Thread(this::run, "signalstream-api-view");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Whether the view has read both topics up to where they ended when it started. */
    boolean ready() {
        return ready;
    }

    /** Records behind the end of the topics (last measured), or -1 before the first measure. */
    long lag() {
        return lag;
    }

    /** Conversations held. */
    long size() {
        return entries.estimatedSize();
    }

    /** The newest intelligence of a tenant's conversation, with its latest messages. */
    Optional<ObjectNode> insights(String tenantId, String conversationId) {
        String key = tenantId + ":" + conversationId;
        Entry e = entries.getIfPresent(key);
        if (e == null || !e.tenantId().equals(tenantId)) {
            return Optional.empty();
        }
        ObjectNode out = e.aggregated().deepCopy();
        ArrayNode messages = recent.getIfPresent(key);
        out.set("recent_messages", messages == null ? Json.MAPPER.createArrayNode() : messages);
        return Optional.of(out);
    }

    /**
     * A tenant's conversations, newest update first.
     *
     * @param filter which aggregated records to keep
     * @param limit most records returned
     */
    List<ObjectNode> list(String tenantId, Predicate<ObjectNode> filter, int limit) {
        List<Entry> mine = new ArrayList<>();
        for (Entry e : entries.asMap().values()) {
            if (e.tenantId().equals(tenantId) && filter.test(e.aggregated())) {
                mine.add(e);
            }
        }
        mine.sort(
                Comparator.comparing(
                                Entry::lastUpdated, Comparator.nullsLast(Comparator.reverseOrder()))
                        .thenComparing(Entry::conversationId));
        List<ObjectNode> out = new ArrayList<>(Math.min(limit, mine.size()));
        for (int i = 0; i < mine.size() && i < limit; i++) {
            out.add(mine.get(i).aggregated());
        }
        return out;
    }

    private void run() {
        try {
            // A Kafka outage (timeouts of partitionsFor, endOffsets, position) must not end the
            // view: it retries with a pause and carries on where it was.
            TopicReaders.pollUntilClosed(
                    LOG, "view", "conversation view", () -> closed, () -> {}, this::step);
        } finally {
            stopped = !closed;
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** One step of the view's thread: assign both topics from the beginning, or one poll. */
    private void step() {
        if (target == null) {
            target = assign();
            return;
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            apply(r);
        }
        if (!ready && caughtUp(consumer, target)) {
            ready = true;
            LOG.info("view ready: {} conversations", entries.estimatedSize());
        }
        long now = System.nanoTime();
        if (now - lastLagCheck > 2_000_000_000L) {
            lastLagCheck = now;
            lag = measureLag();
        }
    }

    /** Whether the view's thread ended without being closed (the service is then unhealthy). */
    boolean failed() {
        return stopped;
    }

    /**
     * Assigns every partition of both topics, from the beginning; waits for the aggregated topic.
     * Readiness waits for the aggregated topic only: the state topic (not compacted, only the
     * latest messages come from it) is read on the side.
     */
    private Map<TopicPartition, Long> assign() {
        List<TopicPartition> partitions = new ArrayList<>();
        while (!closed) {
            partitions.clear();
            for (String topic : List.of(options.aggregatedTopic(), options.stateTopic())) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                if (infos != null) {
                    infos.forEach(
                            p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
                }
            }
            if (partitions.stream().anyMatch(p -> p.topic().equals(options.aggregatedTopic()))) {
                break;
            }
            LOG.info("waiting for topic {}", options.aggregatedTopic());
            sleep(1000);
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        List<TopicPartition> aggregated =
                partitions.stream()
                        .filter(p -> p.topic().equals(options.aggregatedTopic()))
                        .toList();
        return new HashMap<>(consumer.endOffsets(aggregated));
    }

    private long measureLag() {
        long sum = 0;
        for (Map.Entry<TopicPartition, Long> e :
                consumer.endOffsets(consumer.assignment()).entrySet()) {
            sum += Math.max(0, e.getValue() - consumer.position(e.getKey()));
        }
        return sum;
    }

    private void apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            return;
        }
        String key = new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
        if (r.value() == null) {
            if (r.topic().equals(options.aggregatedTopic())) {
                entries.invalidate(key);
            }
            return;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(r.value());
        } catch (IOException e) {
            LOG.warn(
                    "skipping a record of {} that is not JSON at offset {}", r.topic(), r.offset());
            return;
        }
        if (!(node instanceof ObjectNode obj)) {
            return;
        }
        if (r.topic().equals(options.stateTopic())) {
            JsonNode messages = obj.get("recent_messages");
            if (messages instanceof ArrayNode all) {
                ArrayNode last = Json.MAPPER.createArrayNode();
                for (int i = Math.max(0, all.size() - RECENT); i < all.size(); i++) {
                    last.add(all.get(i));
                }
                recent.put(key, last);
            }
            return;
        }
        String tenant = obj.path("tenant_id").asText(null);
        String conversation = obj.path("conversation_id").asText(null);
        if (tenant == null || conversation == null) {
            return;
        }
        long version = obj.path("version").asLong();
        // Last write wins: a key's records come in offset order, and a conversation's version
        // starts again at 1 when its state expired (idle TTL), so a lower version is newer.
        Entry e = new Entry(tenant, conversation, version, instant(obj.path("last_updated")), obj);
        entries.put(key, e);
        if (ready) {
            try {
                listener.accept(e);
            } catch (RuntimeException ex) {
                LOG.warn("stream listener failed", ex);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

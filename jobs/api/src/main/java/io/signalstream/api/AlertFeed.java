package io.signalstream.api;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.signalstream.api.TopicReaders.caughtUp;
import static io.signalstream.api.TopicReaders.instant;
import static io.signalstream.api.TopicReaders.sleep;

/**
 * The API's side of {@code support.alerts} (read_committed):
 *
 * <ul>
 *   <li><b>History and live push.</b> One consumer without a group reads the topic from the
 *       beginning and keeps the newest {@link #MAX_PER_TENANT} alerts per tenant for {@code GET
 *       /v1/alerts?since=}; once it has caught up with the end offsets of its start, each new alert
 *       goes to the listener (the {@code /v1/stream} WebSockets).
 *   <li><b>Webhooks.</b> When any tenant has a webhook, a second consumer in the group {@link
 *       ApiOptions#webhookGroup()} hands every alert to the {@link WebhookDispatcher} and commits
 *       an offset only once every alert before it was delivered or failed for good: a restart
 *       delivers again what was not finished (at least once; receivers drop duplicates by the
 *       {@code Idempotency-Key}). Replicas of the service share the partitions, so each alert is
 *       delivered by one of them. Alerts older than {@link ApiOptions#webhookMaxAge()} when read
 *       (e.g. the history on a group's first start) are not delivered. With more than {@link
 *       #MAX_IN_FLIGHT} alerts unfinished, the consumer pauses.
 * </ul>
 */
final class AlertFeed implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AlertFeed.class);

    /** Alerts kept per tenant for {@code GET /v1/alerts}. */
    static final int MAX_PER_TENANT = 10_000;

    /** Unfinished webhook deliveries at which the webhook consumer pauses. */
    static final int MAX_IN_FLIGHT = 50_000;

    private final ApiOptions options;
    private final Consumer<ObjectNode> listener;
    private final WebhookDispatcher webhooks;
    private final Map<String, Deque<ObjectNode>> byTenant = new ConcurrentHashMap<>();
    private final Thread historyThread;
    private final Thread webhookThread;
    private volatile KafkaConsumer<byte[], byte[]> history;
    private volatile KafkaConsumer<byte[], byte[]> delivery;
    private volatile boolean ready;
    private volatile boolean closed;

    /** Webhook consumer: partition → offsets handed out and not finished. */
    private final Map<TopicPartition, TreeSet<Long>> unfinished = new ConcurrentHashMap<>();

    /** Webhook consumer: partition → next offset to read. */
    private final Map<TopicPartition, Long> nextOffset = new ConcurrentHashMap<>();

    private final AtomicInteger inFlight = new AtomicInteger();

    /** History thread only: the end offsets of the start, once assigned. */
    private Map<TopicPartition, Long> historyTarget;

    /** Webhook thread only: when offsets were last committed ({@link System#nanoTime()}). */
    private long lastCommit;

    AlertFeed(ApiOptions options, Consumer<ObjectNode> listener, WebhookDispatcher webhooks) {
        this.options = options;
        this.listener = listener;
        this.webhooks = webhooks;
        this.historyThread = new Thread(this::readHistory, "signalstream-api-alerts");
        this.historyThread.setDaemon(true);
        this.webhookThread = new Thread(this::deliver, "signalstream-api-webhooks");
        this.webhookThread.setDaemon(true);
    }

    void start() {
        historyThread.start();
        if (webhooks.enabled()) {
            webhookThread.start();
        }
    }

    /** Whether the history caught up with the topic's end offsets of the start. */
    boolean ready() {
        return ready;
    }

    /**
     * A tenant's alerts created at or after {@code since}, oldest first.
     *
     * @param limit most alerts returned (the newest ones)
     */
    List<ObjectNode> since(String tenantId, Instant since, int limit) {
        Deque<ObjectNode> d = byTenant.get(tenantId);
        if (d == null) {
            return List.of();
        }
        List<ObjectNode> out = new ArrayList<>();
        synchronized (d) {
            for (ObjectNode a : d) {
                Instant created = instant(a.path("created_at"));
                if (created != null && !created.isBefore(since)) {
                    out.add(a);
                }
            }
        }
        out.sort(
                java.util.Comparator.comparing(
                        (ObjectNode a) -> instant(a.path("created_at")),
                        java.util.Comparator.nullsFirst(java.util.Comparator.naturalOrder())));
        return out.size() <= limit ? out : out.subList(out.size() - limit, out.size());
    }

    private void readHistory() {
        KafkaConsumer<byte[], byte[]> c =
                TopicReaders.consumer(options, "signalstream-api-alerts", 1000, Map.of());
        history = c;
        try {
            TopicReaders.pollUntilClosed(
                    LOG, "alerts", "alert history", () -> closed, () -> {}, () -> readHistory(c));
        } finally {
            c.close(Duration.ofSeconds(2));
        }
    }

    /** One step of the history: assign all partitions from the beginning, or one poll. */
    private void readHistory(KafkaConsumer<byte[], byte[]> c) {
        if (historyTarget == null) {
            List<PartitionInfo> infos =
                    c.partitionsFor(options.alertsTopic(), Duration.ofSeconds(10));
            if (infos == null || infos.isEmpty()) {
                sleep(1000);
                return;
            }
            List<TopicPartition> parts = new ArrayList<>();
            infos.forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            historyTarget = new HashMap<>(c.endOffsets(parts));
            return;
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
            ObjectNode a = parse(r);
            if (a != null) {
                keep(a);
                if (ready) {
                    try {
                        listener.accept(a);
                    } catch (RuntimeException e) {
                        LOG.warn("alert listener failed", e);
                    }
                }
            }
        }
        if (!ready && caughtUp(c, historyTarget)) {
            ready = true;
        }
    }

    private void keep(ObjectNode a) {
        String tenant = a.path("tenant_id").asText(null);
        if (tenant == null) {
            return;
        }
        Deque<ObjectNode> d = byTenant.computeIfAbsent(tenant, t -> new ArrayDeque<>());
        synchronized (d) {
            d.addLast(a);
            while (d.size() > MAX_PER_TENANT) {
                d.removeFirst();
            }
        }
    }

    private void deliver() {
        KafkaConsumer<byte[], byte[]> c =
                TopicReaders.consumer(
                        options,
                        "signalstream-api-webhooks",
                        1000,
                        Map.of(
                                ConsumerConfig.GROUP_ID_CONFIG,
                                options.webhookGroup(),
                                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                                "earliest"));
        delivery = c;
        lastCommit = System.nanoTime();
        try {
            TopicReaders.pollUntilClosed(
                    LOG,
                    "webhooks",
                    "webhook consumer",
                    () -> closed,
                    () -> subscribe(c),
                    () -> deliverPolled(c));
        } finally {
            try {
                commit(c);
            } catch (RuntimeException e) {
                LOG.debug("final commit", e);
            }
            c.close(Duration.ofSeconds(2));
        }
    }

    private void subscribe(KafkaConsumer<byte[], byte[]> c) {
        c.subscribe(
                List.of(options.alertsTopic()),
                new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                        commit(c);
                        for (TopicPartition tp : parts) {
                            TreeSet<Long> open = unfinished.remove(tp);
                            if (open != null) {
                                synchronized (open) {
                                    inFlight.addAndGet(-open.size());
                                }
                            }
                            nextOffset.remove(tp);
                        }
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> parts) {}
                });
    }

    /** One step of the webhook consumer: pause or resume, one poll, a commit each second. */
    private void deliverPolled(KafkaConsumer<byte[], byte[]> c) {
        if (inFlight.get() >= MAX_IN_FLIGHT) {
            c.pause(c.assignment());
        } else {
            c.resume(c.paused());
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            nextOffset.put(tp, r.offset() + 1);
            ObjectNode a = parse(r);
            if (a == null || tooOld(a)) {
                continue;
            }
            TreeSet<Long> open = unfinished.computeIfAbsent(tp, t -> new TreeSet<>());
            synchronized (open) {
                open.add(r.offset());
            }
            inFlight.incrementAndGet();
            long offset = r.offset();
            webhooks.submit(
                    a,
                    () -> {
                        synchronized (open) {
                            if (open.remove(offset)) {
                                inFlight.decrementAndGet();
                            }
                        }
                    });
        }
        if (System.nanoTime() - lastCommit > 1_000_000_000L) {
            commit(c);
            lastCommit = System.nanoTime();
        }
    }

    /** Commits, per partition, the lowest unfinished offset (or the next to read). */
    private void commit(KafkaConsumer<byte[], byte[]> c) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> e : nextOffset.entrySet()) {
            long committable = e.getValue();
            TreeSet<Long> open = unfinished.get(e.getKey());
            if (open != null) {
                synchronized (open) {
                    if (!open.isEmpty()) {
                        committable = open.first();
                    }
                }
            }
            offsets.put(e.getKey(), new OffsetAndMetadata(committable));
        }
        if (!offsets.isEmpty()) {
            try {
                c.commitSync(offsets, Duration.ofSeconds(5));
            } catch (KafkaException e) {
                LOG.warn("webhooks: offset commit failed: {}", e.toString());
            }
        }
    }

    private boolean tooOld(ObjectNode a) {
        Instant created = instant(a.path("created_at"));
        return created != null && created.isBefore(Instant.now().minus(options.webhookMaxAge()));
    }

    private static ObjectNode parse(ConsumerRecord<byte[], byte[]> r) {
        if (r.value() == null) {
            return null;
        }
        try {
            JsonNode n = Json.MAPPER.readTree(r.value());
            return n instanceof ObjectNode o && o.hasNonNull("alert_id") ? o : null;
        } catch (IOException e) {
            LOG.warn("skipping an alert that is not JSON at offset {}", r.offset());
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        KafkaConsumer<byte[], byte[]> h = history;
        if (h != null) {
            h.wakeup();
        }
        KafkaConsumer<byte[], byte[]> d = delivery;
        if (d != null) {
            d.wakeup();
        }
        try {
            historyThread.join(5000);
            if (webhookThread.isAlive()) {
                webhookThread.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.signalstream.llm;

import io.signalstream.agents.ProviderStats;
import io.signalstream.events.Usage;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The durable response log of one provider in a TaskManager: every valid answer is appended to a
 * compacted Kafka topic keyed by its request hash, and a new provider runtime reads the topic back
 * into its cache ({@link #warmUp}) before its first call, so a crash, restore or rescale does not
 * pay again for answers given within the cache TTL.
 *
 * <p>Appends are asynchronous and never fail or block a call: {@link #append} hands the answer to
 * one sender thread through a bounded queue (full: the append is dropped and counted); the sender
 * thread is the only one that may wait in {@link KafkaProducer#send} (for metadata or buffer
 * space). The producer is idempotent ({@code enable.idempotence=true}, {@code acks=all}) and not
 * transactional: an answer is worth keeping even if the checkpoint that would have covered the call
 * never completes. A failed append is counted ({@link ProviderStats#responseLogAppendFailures}) and
 * logged once.
 *
 * <p>Record: key the request hash (UTF-8), value JSON {@code {request_hash, provider, model,
 * prompt_version, answer{}, usage{prompt_tokens, completion_tokens}, created_at}} ({@code
 * prompt_version} null and usage 0 when the caller did not give them). Prompts are not stored.
 */
public final class ResponseLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ResponseLog.class);

    /** Answers waiting for the sender thread; more are dropped and counted as failures. */
    static final int QUEUE_CAPACITY = 10_000;

    private final ResponseLogSettings settings;
    private final String provider;
    private final String model;
    private final ProviderStats stats;
    private final Clock clock;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ThreadPoolExecutor sender;
    private final AtomicBoolean failureLogged = new AtomicBoolean();
    private volatile boolean off;

    /**
     * Creates the producer and its sender thread (no network call yet).
     *
     * @param settings the topic and Kafka; must be enabled
     * @param provider provider name written into each record
     * @param model model name written into each record
     * @param stats counters of the provider
     * @param clock source of {@code created_at}
     * @throws org.apache.kafka.common.KafkaException if the producer cannot be configured
     */
    public ResponseLog(
            ResponseLogSettings settings,
            String provider,
            String model,
            ProviderStats stats,
            Clock clock) {
        this.settings = settings;
        this.provider = provider;
        this.model = model;
        this.stats = stats;
        this.clock = clock;
        Properties p = clientProperties(settings);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "signalstream-llm-responses-" + provider);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // Only the sender thread waits; bounded so close() and a missing broker stay bounded.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        this.producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        this.sender =
                new ThreadPoolExecutor(
                        1,
                        1,
                        0,
                        TimeUnit.MILLISECONDS,
                        new ArrayBlockingQueue<>(QUEUE_CAPACITY),
                        r -> {
                            Thread t = new Thread(r, "llm-" + provider + "-response-log");
                            t.setDaemon(true);
                            return t;
                        });
    }

    /** The topic appended to. */
    public String topic() {
        return settings.topic();
    }

    /**
     * Appends an answer without waiting; never throws.
     *
     * @param requestHash the cache key (hash of provider, model, prompt version and prompt)
     * @param answer the validated answer
     * @param promptVersion prompt template version, or null if the caller did not say
     * @param usage tokens of the answer, or null for unknown
     */
    public void append(String requestHash, JsonNode answer, String promptVersion, Usage usage) {
        if (off) {
            return;
        }
        Instant createdAt = clock.instant();
        try {
            sender.execute(() -> send(requestHash, answer, promptVersion, usage, createdAt));
        } catch (RejectedExecutionException e) {
            failed("the append queue is full or closed", e);
        }
    }

    private void send(
            String requestHash,
            JsonNode answer,
            String promptVersion,
            Usage usage,
            Instant createdAt) {
        try {
            byte[] value =
                    Json.MAPPER.writeValueAsBytes(
                            record(requestHash, answer, promptVersion, usage, createdAt));
            producer.send(
                    new ProducerRecord<>(
                            settings.topic(),
                            null,
                            createdAt.toEpochMilli(),
                            requestHash.getBytes(StandardCharsets.UTF_8),
                            value),
                    (md, error) -> {
                        if (error == null) {
                            stats.responseLogAppends.incrementAndGet();
                        } else {
                            failed("Kafka did not take the record", error);
                        }
                    });
        } catch (Exception e) {
            failed("the record could not be sent", e);
        }
    }

    private ObjectNode record(
            String requestHash,
            JsonNode answer,
            String promptVersion,
            Usage usage,
            Instant createdAt) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("request_hash", requestHash);
        n.put("provider", provider);
        n.put("model", model);
        n.put("prompt_version", promptVersion);
        n.set("answer", answer);
        ObjectNode u = n.putObject("usage");
        u.put("prompt_tokens", usage == null ? 0 : usage.promptTokens());
        u.put("completion_tokens", usage == null ? 0 : usage.completionTokens());
        n.put("created_at", createdAt.toString());
        return n;
    }

    private void failed(String what, Throwable e) {
        stats.responseLogAppendFailures.incrementAndGet();
        if (failureLogged.compareAndSet(false, true)) {
            LOG.warn(
                    "provider {}: an answer could not be appended to the response log {} ({}: {});"
                            + " calls go on, further failures are only counted"
                            + " (response_log_append_failures)",
                    provider,
                    settings.topic(),
                    what,
                    e.toString());
        }
    }

    /** Stops appending (the topic does not exist); later appends are neither sent nor counted. */
    void disable() {
        off = true;
    }

    /** Sends what is queued (up to 5 s), then closes the producer (up to 5 s more). Idempotent. */
    @Override
    public void close() {
        sender.shutdown();
        try {
            if (!sender.awaitTermination(5, TimeUnit.SECONDS)) {
                sender.shutdownNow();
            }
        } catch (InterruptedException e) {
            sender.shutdownNow();
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }

    /**
     * What a warm-up read.
     *
     * @param loaded answers put into the cache
     * @param expired records older than the TTL
     * @param skipped tombstones and malformed records
     * @param millis wall time of the warm-up
     * @param complete whether it read up to the end offsets seen at its start
     * @param topicFound whether the topic exists
     */
    public record WarmUp(
            long loaded,
            long expired,
            long skipped,
            long millis,
            boolean complete,
            boolean topicFound) {}

    /**
     * Reads the topic from the beginning to the end offsets seen at the start (assigned partitions,
     * no consumer group) and puts every answer younger than {@code ttl} into the cache, with what
     * is left of its TTL. Tombstones and malformed records (no key, not JSON, no {@code answer}
     * object) are skipped and counted. Bounded by the settings' warm-up timeout; progress is logged
     * every 5 s. Never throws: a failure or time-out logs a warning and returns what was read.
     *
     * @param settings the topic and Kafka
     * @param provider provider name, for logs and the consumer's client id
     * @param ttl the cache TTL: older answers are not loaded
     * @param cache receives each answer with its remaining TTL
     * @param clock the current time (record ages are measured against it)
     * @return the counts, also added to {@code stats}
     */
    public static WarmUp warmUp(
            ResponseLogSettings settings,
            String provider,
            Duration ttl,
            ResponseCache cache,
            ProviderStats stats,
            Clock clock) {
        long start = System.nanoTime();
        long deadline = start + settings.warmupTimeout().toNanos();
        long loaded = 0;
        long expired = 0;
        long skipped = 0;
        boolean complete = false;
        Properties p = clientProperties(settings);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "signalstream-llm-responses-warmup-" + provider);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos =
                    consumer.partitionsFor(settings.topic(), remaining(deadline));
            if (infos == null || infos.isEmpty()) {
                LOG.warn(
                        "provider {}: response log topic {} does not exist; the cache starts"
                                + " empty and answers are not logged (create it with run"
                                + " --create-topics, see KafkaTopics)",
                        provider,
                        settings.topic());
                return new WarmUp(0, 0, 0, millisSince(start), false, false);
            }
            List<TopicPartition> partitions = new ArrayList<>();
            infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, remaining(deadline));
            long lastProgress = System.nanoTime();
            while (true) {
                List<TopicPartition> behind = new ArrayList<>();
                for (TopicPartition tp : partitions) {
                    if (consumer.position(tp, remaining(deadline)) < end.get(tp)) {
                        behind.add(tp);
                    }
                }
                if (behind.isEmpty()) {
                    complete = true;
                    break;
                }
                if (System.nanoTime() >= deadline) {
                    break;
                }
                // Stop fetching partitions that are done: records written after the start are
                // this run's own (or another TaskManager's) and not needed.
                if (behind.size() < consumer.assignment().size()) {
                    consumer.pause(partitions.stream().filter(tp -> !behind.contains(tp)).toList());
                }
                long now = clock.millis();
                for (ConsumerRecord<byte[], byte[]> r :
                        consumer.poll(min(remaining(deadline), Duration.ofMillis(500)))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
                        continue;
                    }
                    long age = now - r.timestamp();
                    JsonNode answer = answer(r);
                    if (answer == null) {
                        skipped++;
                    } else if (age >= ttl.toMillis()) {
                        expired++;
                    } else {
                        cache.putWarm(
                                new String(r.key(), StandardCharsets.UTF_8),
                                answer,
                                ttl.minusMillis(Math.max(0, age)));
                        loaded++;
                    }
                }
                if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(5)) {
                    lastProgress = System.nanoTime();
                    LOG.info(
                            "provider {}: warming the response cache from {}: {} answers loaded"
                                    + " in {} s",
                            provider,
                            settings.topic(),
                            loaded,
                            millisSince(start) / 1000);
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            // The deadline passed inside a Kafka call: reported below as a time-out.
        } catch (Exception e) {
            LOG.warn(
                    "provider {}: the response cache warm-up from {} failed after {} answers ({});"
                            + " the job goes on with what was read",
                    provider,
                    settings.topic(),
                    loaded,
                    e.toString());
        }
        long ms = millisSince(start);
        stats.warmupRecords.addAndGet(loaded);
        stats.warmupExpired.addAndGet(expired);
        stats.warmupSkipped.addAndGet(skipped);
        stats.warmupMs.set(ms);
        if (complete) {
            LOG.info(
                    "provider {}: response cache warmed from {}: {} answers loaded, {} expired,"
                            + " {} skipped (tombstones, malformed) in {} ms",
                    provider,
                    settings.topic(),
                    loaded,
                    expired,
                    skipped,
                    ms);
        } else {
            LOG.warn(
                    "provider {}: response cache warm-up from {} stopped after {} ms (timeout {}):"
                            + " {} answers loaded, {} expired, {} skipped; the job goes on with"
                            + " these",
                    provider,
                    settings.topic(),
                    ms,
                    settings.warmupTimeout(),
                    loaded,
                    expired,
                    skipped);
        }
        return new WarmUp(loaded, expired, skipped, ms, complete, true);
    }

    /** The answer of a record, or null for a tombstone or a malformed record. */
    private static JsonNode answer(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null || r.value() == null) {
            return null;
        }
        try {
            JsonNode n = Json.MAPPER.readTree(r.value());
            if (n == null || !n.isObject()) {
                return null;
            }
            JsonNode hash = n.get("request_hash");
            if (hash != null
                    && !hash.asText().equals(new String(r.key(), StandardCharsets.UTF_8))) {
                return null; // not the answer of this key
            }
            JsonNode answer = n.get("answer");
            return answer != null && answer.isObject() ? answer : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static Properties clientProperties(ResponseLogSettings settings) {
        Properties p = new Properties();
        p.putAll(settings.kafkaProperties());
        p.put("bootstrap.servers", settings.bootstrapServers());
        return p;
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}

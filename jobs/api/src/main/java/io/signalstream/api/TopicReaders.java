package io.signalstream.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * What the API's background topic readers ({@link ConversationView}, {@link AlertFeed}) share: a
 * read_committed byte consumer, the poll loop that survives Kafka outages, the catch-up check and
 * reading ISO-8601 instants from records.
 */
final class TopicReaders {

    private TopicReaders() {}

    /**
     * A read_committed consumer of raw bytes without auto-commit.
     *
     * @param clientId the Kafka client id
     * @param maxPollRecords records returned by one poll at most
     * @param extra further consumer settings (e.g. a group id), may be empty
     */
    static KafkaConsumer<byte[], byte[]> consumer(
            ApiOptions options, String clientId, int maxPollRecords, Map<String, String> extra) {
        Properties p = options.kafkaClient(clientId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(maxPollRecords));
        p.putAll(extra);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Runs {@code setup} once, then {@code step} until {@code closed} is true. A {@link
     * KafkaException} of a step (an outage: timeouts of poll, partitionsFor, endOffsets, position)
     * is logged as {@code "<name>: Kafka call failed, retrying in 1 s"} and the next step follows
     * after 1 s. A {@link WakeupException} (from closing) ends the loop quietly; any other {@link
     * RuntimeException} ends it, logged as {@code "the <what> stopped"} unless closed. Returns
     * normally in every case; the caller closes its consumer.
     *
     * @param log the caller's logger
     * @param name short name in the retry warning, e.g. {@code view}
     * @param what the reader's name in the error when it stops, e.g. {@code conversation view}
     */
    static void pollUntilClosed(
            Logger log,
            String name,
            String what,
            BooleanSupplier closed,
            Runnable setup,
            Runnable step) {
        try {
            setup.run();
            while (!closed.getAsBoolean()) {
                try {
                    step.run();
                } catch (WakeupException e) {
                    throw e;
                } catch (KafkaException e) {
                    if (!closed.getAsBoolean()) {
                        log.warn("{}: Kafka call failed, retrying in 1 s: {}", name, e.toString());
                        sleep(1000);
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (!closed.getAsBoolean()) {
                log.error("the " + what + " stopped", e);
            }
        }
    }

    /** Whether the consumer's position reached {@code target}'s offset on every partition. */
    static boolean caughtUp(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> target) {
        for (Map.Entry<TopicPartition, Long> t : target.entrySet()) {
            if (c.position(t.getKey()) < t.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** The node's ISO-8601 instant, or {@code null} when it is missing, not text or not one. */
    static Instant instant(JsonNode node) {
        try {
            return node.isTextual() ? Instant.parse(node.asText()) : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Sleeps, keeping the interrupt flag when interrupted. */
    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

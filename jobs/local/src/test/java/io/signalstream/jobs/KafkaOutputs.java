package io.signalstream.jobs;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;

/** Reads output topics as a read_committed consumer, for ITCases. */
final class KafkaOutputs {

    private KafkaOutputs() {}

    /**
     * Reads every record of the topics from the beginning until {@code done} holds, then keeps
     * reading for 3 more seconds so that any duplicate would show up.
     *
     * @return topic → JSON values in read order
     * @throws AssertionError if {@code done} does not hold within {@code timeout}
     */
    static Map<String, List<JsonNode>> readCommitted(
            String bootstrap,
            List<String> topics,
            Predicate<Map<String, List<JsonNode>>> done,
            Duration timeout)
            throws Exception {
        return readCommitted(bootstrap, topics, done, timeout, Duration.ofSeconds(3));
    }

    /**
     * As {@link #readCommitted(String, List, Predicate, Duration)}, reading on for {@code settle}
     * once {@code done} holds.
     */
    static Map<String, List<JsonNode>> readCommitted(
            String bootstrap,
            List<String> topics,
            Predicate<Map<String, List<JsonNode>>> done,
            Duration timeout,
            Duration settle)
            throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, List<JsonNode>> out = new HashMap<>();
        topics.forEach(t -> out.put(t, new ArrayList<>()));
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : topics) {
                for (PartitionInfo pi : c.partitionsFor(t, Duration.ofSeconds(30))) {
                    parts.add(new TopicPartition(t, pi.partition()));
                }
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            long deadline = System.nanoTime() + timeout.toNanos();
            long settleUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settleUntil)) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.get(r.topic()).add(Json.MAPPER.readTree(r.value()));
                }
                if (settleUntil == Long.MAX_VALUE && done.test(out)) {
                    settleUntil = System.nanoTime() + settle.toNanos();
                }
            }
            if (settleUntil == Long.MAX_VALUE) {
                Map<String, Integer> counts = new HashMap<>();
                out.forEach((k, v) -> counts.put(k, v.size()));
                throw new AssertionError("outputs incomplete after " + timeout + ": " + counts);
            }
        }
        return out;
    }
}

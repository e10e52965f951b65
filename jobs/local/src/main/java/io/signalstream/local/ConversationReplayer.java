package io.signalstream.local;

import io.signalstream.events.ConversationKeys;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Replays a conversation file into the input topic, conversation by conversation, each in turn
 * order, keyed {@code tenant_id:conversation_id}.
 *
 * <p>Input lines are in the shared data format ({@code conversation_id, tenant_id, sender, message,
 * timestamp, turn_index, source_msg_id}) or already in the input event format; they are mapped to
 * input events ({@code source_msg_id} becomes {@code message_id}, {@code turn_index} goes to {@code
 * metadata}). A turn without a timestamp (the agent turns of the bundled data have none) is stamped
 * one minute after the turn before it and marked {@code metadata.timestamp_inferred=true}, so
 * event-time gaps inside a conversation stay meaningful. A line that is not a JSON object is sent
 * as it is, so the job's dead-letter queue can be seen at work.
 */
public final class ConversationReplayer {

    /** Classpath resource of the bundled demo conversations. */
    public static final String DEFAULT_DATA = "/data/ibm-twcc-dev.jsonl";

    /**
     * One record produced to Kafka.
     *
     * @param partition partition it landed in
     * @param offset its offset
     * @param key the record key, or null for a line that is not an event
     * @param messageId the event's message id, or null for a line that is not an event
     */
    public record Produced(int partition, long offset, String key, String messageId) {}

    private ConversationReplayer() {}

    /**
     * Reads the lines of a data file, or of the bundled demo data when {@code file} is null.
     *
     * @throws IOException if the file cannot be read
     */
    public static List<String> readLines(Path file) throws IOException {
        if (file != null) {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank())
                    .toList();
        }
        try (InputStream in = ConversationReplayer.class.getResourceAsStream(DEFAULT_DATA)) {
            if (in == null) {
                throw new IOException("bundled data " + DEFAULT_DATA + " is missing from the jar");
            }
            BufferedReader r =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            return r.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    /**
     * Maps data lines to input events and orders them conversation by conversation (in order of
     * first appearance), each by {@code turn_index}.
     *
     * @return (key, value) pairs; the key is null for lines that are not JSON objects
     */
    public static List<Map.Entry<String, byte[]>> toEvents(List<String> lines) {
        Map<String, List<Object[]>> byConversation = new LinkedHashMap<>();
        int i = 0;
        for (String line : lines) {
            JsonNode node;
            try {
                node = Json.MAPPER.readTree(line);
            } catch (IOException e) {
                node = null;
            }
            String conv =
                    node != null && node.isObject()
                            ? node.path("tenant_id").asText("")
                                    + ":"
                                    + node.path("conversation_id").asText("")
                            : "\u0000line-" + i;
            byConversation
                    .computeIfAbsent(conv, k -> new ArrayList<>())
                    .add(new Object[] {i++, line, node});
        }
        List<Map.Entry<String, byte[]>> out = new ArrayList<>();
        for (List<Object[]> turns : byConversation.values()) {
            turns.sort(
                    Comparator.comparingLong(
                                    (Object[] t) ->
                                            t[2] == null
                                                    ? 0
                                                    : ((JsonNode) t[2])
                                                            .path("turn_index")
                                                            .asLong(0))
                            .thenComparingInt(t -> (Integer) t[0]));
            Instant previous = null;
            for (Object[] t : turns) {
                JsonNode node = (JsonNode) t[2];
                if (node == null || !node.isObject()) {
                    out.add(Map.entry("", ((String) t[1]).getBytes(StandardCharsets.UTF_8)));
                    continue;
                }
                ObjectNode event = toEvent((ObjectNode) node);
                previous = fillTimestamp(event, previous);
                String key =
                        ConversationKeys.of(
                                event.path("tenant_id").asText(""),
                                event.path("conversation_id").asText(""));
                out.add(Map.entry(key, Json.toBytes(event)));
            }
        }
        return out;
    }

    private static Instant fillTimestamp(ObjectNode event, Instant previous) {
        JsonNode ts = event.get("timestamp");
        if (ts != null && ts.isTextual()) {
            try {
                return OffsetDateTime.parse(ts.asText()).toInstant();
            } catch (DateTimeParseException e) {
                return previous; // left as it is: the job will dead-letter it
            }
        }
        if ((ts == null || ts.isNull()) && previous != null) {
            Instant inferred = previous.plusSeconds(60);
            event.put("timestamp", inferred.toString());
            ((ObjectNode) event.get("metadata")).put("timestamp_inferred", true);
            return inferred;
        }
        return previous;
    }

    private static ObjectNode toEvent(ObjectNode line) {
        ObjectNode e = line.deepCopy();
        if (!e.hasNonNull("message_id") && e.hasNonNull("source_msg_id")) {
            e.put("message_id", e.get("source_msg_id").asText());
        }
        ObjectNode meta =
                e.has("metadata") && e.get("metadata").isObject()
                        ? (ObjectNode) e.get("metadata")
                        : Json.MAPPER.createObjectNode();
        if (e.has("turn_index")) {
            meta.set("turn_index", e.get("turn_index"));
        }
        if (e.has("source_msg_id")) {
            meta.set("source_msg_id", e.get("source_msg_id"));
        }
        e.remove("turn_index");
        e.remove("source_msg_id");
        e.set("metadata", meta);
        if (!e.has("channel")) {
            e.put("channel", "twitter");
        }
        return e;
    }

    /**
     * Produces events to a topic at a bounded rate and waits for every acknowledgement.
     *
     * @param bootstrapServers Kafka bootstrap servers
     * @param clientProperties extra producer properties (security)
     * @param topic input topic
     * @param events (key, value) pairs from {@link #toEvents}; an empty key is sent as null
     * @param messagesPerSecond pacing; 0 or less sends as fast as possible
     * @param progress called with the number of records sent so far
     * @return what was produced, in order, with partitions and offsets
     * @throws Exception if a record cannot be produced
     */
    public static List<Produced> produce(
            String bootstrapServers,
            Properties clientProperties,
            String topic,
            List<Map.Entry<String, byte[]>> events,
            double messagesPerSecond,
            IntConsumer progress)
            throws Exception {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // One request in flight keeps the input in order through a retry: with several, a
        // first batch refused with NOT_LEADER_OR_FOLLOWER (a partition its leader has not
        // taken on yet) can be overtaken by the next one, and the broker then refuses the
        // retried first batch as out of sequence until the delivery timeout.
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int n = 0; n < events.size(); n++) {
                Map.Entry<String, byte[]> e = events.get(n);
                byte[] key =
                        e.getKey().isEmpty() ? null : e.getKey().getBytes(StandardCharsets.UTF_8);
                sent.add(producer.send(new ProducerRecord<>(topic, key, e.getValue())));
                progress.accept(n + 1);
                if (messagesPerSecond > 0) {
                    long due = start + (long) ((n + 1) * 1e9 / messagesPerSecond);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
            }
            producer.flush();
        }
        List<Produced> out = new ArrayList<>();
        for (int n = 0; n < sent.size(); n++) {
            RecordMetadata md = sent.get(n).get();
            Map.Entry<String, byte[]> e = events.get(n);
            String messageId = null;
            if (!e.getKey().isEmpty()) {
                messageId = Json.MAPPER.readTree(e.getValue()).path("message_id").asText(null);
            }
            out.add(
                    new Produced(
                            md.partition(),
                            md.offset(),
                            e.getKey().isEmpty() ? null : e.getKey(),
                            messageId));
        }
        return out;
    }
}

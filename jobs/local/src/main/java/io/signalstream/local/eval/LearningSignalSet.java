package io.signalstream.local.eval;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Learning signals (records of {@code support.learning-signals}) as a labelled data set: the
 * humans' corrections become the test set of the next prompt or local model.
 *
 * <ul>
 *   <li>{@link #report}: agreement of the judged answers per (agent, prompt version);
 *   <li>{@link #pairs}: one (input, expected) pair per signal, the input being the text of the
 *       message that made the judged conversation version;
 *   <li>{@link #writeSentimentCsv}: the {@code sentiment.label} pairs in the CSV format of {@code
 *       eval --task sentiment} ({@code text, airline_sentiment}), so a provider can be scored on
 *       them directly.
 * </ul>
 */
public final class LearningSignalSet {

    private LearningSignalSet() {}

    /**
     * One labelled example.
     *
     * @param signalId the signal's id
     * @param tenantId tenant
     * @param conversationId conversation
     * @param version judged conversation version
     * @param agent judged agent
     * @param field dotted path into the agent's result
     * @param input text of the message that made the version, {@code null} when unknown
     * @param expected what the human said (a JSON scalar)
     * @param predicted what the agent answered
     * @param agreed whether they agreed
     * @param provider provider of the judged answer
     * @param model model of the judged answer
     * @param promptVersion prompt version of the judged answer
     */
    public record Pair(
            String signalId,
            String tenantId,
            String conversationId,
            long version,
            String agent,
            String field,
            String input,
            JsonNode expected,
            JsonNode predicted,
            boolean agreed,
            String provider,
            String model,
            String promptVersion) {}

    /**
     * Reads signals from a JSON-lines file (one signal per line, blank lines skipped), keeping the
     * first of each {@code signal_id}.
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException naming the line that is not a signal
     */
    public static List<JsonNode> readFile(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode s;
            try {
                s = Json.MAPPER.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(file + " line " + n + " is not JSON");
            }
            if (!s.hasNonNull("signal_id") || !s.hasNonNull("agent") || !s.has("expected")) {
                throw new IllegalArgumentException(
                        file
                                + " line "
                                + n
                                + " is not a learning signal (signal_id, agent,"
                                + " expected)");
            }
            out.add(s);
        }
        return distinct(out);
    }

    /**
     * Reads every record of a topic, read_committed, from the beginning to the end offsets seen at
     * the start, as JSON; records that are not JSON are skipped.
     *
     * @param clientProperties Kafka client properties: {@code bootstrap.servers} and security
     * @throws IllegalStateException if the end is not reached within {@code timeout}
     */
    public static List<JsonNode> readTopic(
            Properties clientProperties, String topic, Duration timeout) {
        List<JsonNode> out = new ArrayList<>();
        forEachRecord(clientProperties, topic, timeout, out::add);
        return out;
    }

    /** {@link #readTopic} for a topic of learning signals, keeping the first of each id. */
    public static List<JsonNode> readSignalsTopic(
            Properties clientProperties, String topic, Duration timeout) {
        return distinct(readTopic(clientProperties, topic, timeout));
    }

    private static void forEachRecord(
            Properties clientProperties, String topic, Duration timeout, Consumer<JsonNode> sink) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(topic, timeout)) {
                parts.add(new TopicPartition(topic, pi.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "could not read " + topic + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    try {
                        sink.accept(Json.MAPPER.readTree(r.value()));
                    } catch (IOException | RuntimeException e) {
                        // not JSON: not a record of this topic's shape
                    }
                }
            }
        }
    }

    private static List<JsonNode> distinct(List<JsonNode> signals) {
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        for (JsonNode s : signals) {
            if (s != null && s.hasNonNull("signal_id")) {
                byId.putIfAbsent(s.get("signal_id").asText(), s);
            }
        }
        return new ArrayList<>(byId.values());
    }

    /**
     * The input text per {@code tenant:conversation#version} from raw chat messages as replayed
     * (JSON lines of the shared data format): version {@code n} is the {@code n}-th message of its
     * conversation in file order, as the job numbers a replay.
     *
     * @throws IOException if the file cannot be read
     */
    public static Map<String, String> inputsFromMessages(Path messages) throws IOException {
        Map<String, String> out = new HashMap<>();
        Map<String, Integer> counts = new HashMap<>();
        for (String line : Files.readAllLines(messages, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = Json.MAPPER.readTree(line);
            String key = n.path("tenant_id").asText() + ":" + n.path("conversation_id").asText();
            int v = counts.merge(key, 1, Integer::sum);
            out.put(key + "#" + v, n.path("message").asText(null));
        }
        return out;
    }

    /**
     * The input text per {@code tenant:conversation#version} from the conversation snapshots topic
     * ({@code support.conversations.state}): the {@code last_message} of each version.
     */
    public static Map<String, String> inputsFromSnapshots(
            Properties clientProperties, String topic, Duration timeout) {
        Map<String, String> out = new HashMap<>();
        forEachRecord(
                clientProperties,
                topic,
                timeout,
                s ->
                        out.put(
                                s.path("tenant_id").asText()
                                        + ":"
                                        + s.path("conversation_id").asText()
                                        + "#"
                                        + s.path("version").asLong(),
                                s.at("/last_message/message").asText(null)));
        return out;
    }

    /**
     * Agreement per (agent, prompt version).
     *
     * @return {@code task, records, agreed, agreement, per_prompt[{agent, prompt_version,
     *     providers[], models[], judged, agreed, agreement}]}, sorted by agent and prompt version;
     *     agreement is agreed / judged rounded to 4 digits
     */
    public static Map<String, Object> report(List<JsonNode> signals) {
        Map<List<String>, long[]> counts =
                new TreeMap<>((a, b) -> String.join("\0", a).compareTo(String.join("\0", b)));
        Map<List<String>, Set<String>> providers = new HashMap<>();
        Map<List<String>, Set<String>> models = new HashMap<>();
        long agreed = 0;
        for (JsonNode s : signals) {
            List<String> k =
                    List.of(s.path("agent").asText(), s.path("prompt_version").asText("unknown"));
            long[] c = counts.computeIfAbsent(k, x -> new long[2]);
            c[0]++;
            if (s.path("agreed").asBoolean()) {
                c[1]++;
                agreed++;
            }
            providers
                    .computeIfAbsent(k, x -> new LinkedHashSet<>())
                    .add(s.path("provider").asText());
            models.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(s.path("model").asText());
        }
        List<Map<String, Object>> perPrompt = new ArrayList<>();
        counts.forEach(
                (k, c) -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("agent", k.get(0));
                    m.put("prompt_version", k.get(1));
                    m.put("providers", List.copyOf(providers.get(k)));
                    m.put("models", List.copyOf(models.get(k)));
                    m.put("judged", c[0]);
                    m.put("agreed", c[1]);
                    m.put("agreement", Scores.round((double) c[1] / c[0]));
                    perPrompt.add(m);
                });
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("task", "learning-signals");
        out.put("records", signals.size());
        out.put("agreed", agreed);
        out.put(
                "agreement",
                Scores.round(signals.isEmpty() ? 0 : (double) agreed / signals.size()));
        out.put("per_prompt", perPrompt);
        return out;
    }

    /**
     * One (input, expected) pair per signal.
     *
     * @param inputs input text per {@code tenant:conversation#version} (may be empty)
     */
    public static List<Pair> pairs(List<JsonNode> signals, Map<String, String> inputs) {
        List<Pair> out = new ArrayList<>();
        for (JsonNode s : signals) {
            String key =
                    s.path("tenant_id").asText()
                            + ":"
                            + s.path("conversation_id").asText()
                            + "#"
                            + s.path("version").asLong();
            out.add(
                    new Pair(
                            s.path("signal_id").asText(),
                            s.path("tenant_id").asText(),
                            s.path("conversation_id").asText(),
                            s.path("version").asLong(),
                            s.path("agent").asText(),
                            s.path("field").asText(),
                            inputs.get(key),
                            s.get("expected"),
                            s.get("predicted"),
                            s.path("agreed").asBoolean(),
                            s.path("provider").asText(null),
                            s.path("model").asText(null),
                            s.path("prompt_version").asText(null)));
        }
        return out;
    }

    /** Writes the pairs as JSON lines (snake_case fields). */
    public static void writePairs(List<Pair> pairs, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Pair p : pairs) {
                w.write(Json.toString(p));
                w.write('\n');
            }
        }
    }

    /**
     * Writes the {@code sentiment.label} pairs that have an input as the CSV of {@code eval --task
     * sentiment}: header {@code text,airline_sentiment}, the human's label lower-cased.
     *
     * @return the number of rows written
     */
    public static int writeSentimentCsv(List<Pair> pairs, Path file) throws IOException {
        CsvMapper csv = new CsvMapper();
        CsvSchema schema =
                CsvSchema.builder()
                        .addColumn("text")
                        .addColumn("airline_sentiment")
                        .build()
                        .withHeader();
        List<Map<String, String>> rows = new ArrayList<>();
        for (Pair p : pairs) {
            if (p.agent().equals("sentiment")
                    && p.field().equals("label")
                    && p.input() != null
                    && p.expected() != null
                    && p.expected().isTextual()) {
                Map<String, String> row = new LinkedHashMap<>();
                row.put("text", p.input());
                row.put(
                        "airline_sentiment",
                        p.expected().asText().trim().toLowerCase(java.util.Locale.ROOT));
                rows.add(row);
            }
        }
        csv.writer(schema).writeValues(file.toFile()).writeAll(rows).close();
        return rows.size();
    }
}

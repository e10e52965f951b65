package io.signalstream.bench;

import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.RawRecord;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.functions.ConversationStateFunction;
import io.signalstream.serde.ChatMessageParser;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * JMH microbenchmarks of the hot paths: parsing and validating an input record, serialising a
 * snapshot, the PII recognizers on a real message, and the keyed state function's work per message
 * (heap state backend, operator harness), and each agent of the {@code local} provider ({@link
 * LocalAgentProvider#run}: pii, sentiment, insights, summary) on the real conversations of {@value
 * #CONVERSATIONS}, one snapshot per message with a transcript window of up to {@value #WINDOW}
 * messages, cycling through all of them (one op = one agent call). Run from the repository root:
 *
 * <pre>
 * mvn -B -q -pl udfs test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp udfs/target/test-classes:udfs/target/classes:$(cat udfs/target/cp.txt) org.openjdk.jmh.Main HotPathBenchmarks
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class HotPathBenchmarks {

    /** Line 1 of the bundled conversations: a real message with an e-mail address. */
    static final String TEXT =
            "@TeamYouTube Hello dear youtube officers, my channel has been suspended 1 year, I sent"
                    + " an e-mail, no answer, please open my channel back :( channel link: https:"
                    + " //www.youtube.com/channel/UCW97Zu1780HRMZoMMhlW06g\n\n"
                    + "my e-mail address: zekidemir089@gmail.com";

    /** The bundled IBM TWCC dev conversations, relative to the repository root. */
    static final String CONVERSATIONS = "jobs/local/src/main/resources/data/ibm-twcc-dev.jsonl";

    /** Transcript window of the local agent benchmarks, as the job's default. */
    static final int WINDOW = 20;

    private final ChatMessageParser parser = ChatMessageParser.withDefaults();
    private final PiiDetector pii = new PiiDetector();
    private RawRecord record;
    private ConversationSnapshot snapshot;
    private KeyedOneInputStreamOperatorTestHarness<String, ChatMessage, ConversationSnapshot>
            harness;
    private long n;
    private List<ConversationSnapshot> windows;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        String json =
                Json.toString(
                        Map.of(
                                "message_id",
                                "1245403438755852288",
                                "tenant_id",
                                "TeamYouTube",
                                "conversation_id",
                                "LgwAXtbbEm0mBvDrGmjk",
                                "sender",
                                "customer",
                                "message",
                                TEXT,
                                "timestamp",
                                "2020-04-01T17:31:32Z"));
        record =
                new RawRecord(
                        "support.messages.raw",
                        0,
                        1,
                        0,
                        null,
                        json.getBytes(StandardCharsets.UTF_8));
        ChatMessage m = parser.parse(record, Instant.parse("2024-01-01T00:00:00Z"));
        snapshot =
                new ConversationSnapshot(
                        m.tenantId(),
                        m.conversationId(),
                        1,
                        1,
                        io.signalstream.events.TranscriptEntry.of(m),
                        List.of(io.signalstream.events.TranscriptEntry.of(m)),
                        m.timestamp(),
                        m.timestamp(),
                        List.of("pii", "sentiment"),
                        m.source());
        Duration gap = Duration.ofMinutes(5);
        harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new ConversationStateFunction(
                                        List.of(
                                                new AgentSpec(
                                                        "pii",
                                                        AgentTrigger.parse(
                                                                "customer-messages", 3, gap),
                                                        "local",
                                                        "local"),
                                                new AgentSpec(
                                                        "summary",
                                                        AgentTrigger.parse("debounced", 3, gap),
                                                        "local",
                                                        "local")),
                                        20,
                                        Duration.ofDays(7))),
                        ChatMessage::conversationKey,
                        Types.STRING);
        harness.open();
        windows = realWindows();
    }

    /**
     * One snapshot per message of the bundled conversations, in turn order, each with the last
     * {@value #WINDOW} messages of its conversation as the transcript window.
     */
    static List<ConversationSnapshot> realWindows() throws IOException {
        Path file = Path.of(CONVERSATIONS);
        for (Path dir = Path.of("").toAbsolutePath();
                !Files.exists(file) && dir != null;
                dir = dir.getParent()) {
            file = dir.resolve(CONVERSATIONS);
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, List<JsonNode>> byConversation = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                JsonNode node = json.readTree(line);
                byConversation
                        .computeIfAbsent(
                                node.get("conversation_id").asText(), k -> new ArrayList<>())
                        .add(node);
            }
        }
        List<ConversationSnapshot> out = new ArrayList<>();
        long seq = 0;
        for (List<JsonNode> turns : byConversation.values()) {
            turns.sort((a, b) -> a.get("turn_index").asInt() - b.get("turn_index").asInt());
            List<TranscriptEntry> entries = new ArrayList<>();
            for (JsonNode t : turns) {
                Instant ts = Instant.ofEpochSecond(seq);
                entries.add(
                        new TranscriptEntry(
                                "m" + seq++,
                                t.get("sender").asText(),
                                t.get("message").asText(),
                                ts));
                List<TranscriptEntry> window =
                        entries.subList(Math.max(0, entries.size() - WINDOW), entries.size());
                TranscriptEntry last = entries.get(entries.size() - 1);
                out.add(
                        new ConversationSnapshot(
                                t.get("tenant_id").asText(),
                                t.get("conversation_id").asText(),
                                entries.size(),
                                entries.size(),
                                last,
                                List.copyOf(window),
                                entries.get(0).timestamp(),
                                ts,
                                List.of("pii", "sentiment", "insights", "summary"),
                                new SourceRef("bench", 0, seq)));
            }
        }
        return out;
    }

    private ConversationSnapshot nextWindow() {
        ConversationSnapshot s = windows.get(next);
        next = next + 1 == windows.size() ? 0 : next + 1;
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        harness.close();
    }

    @Benchmark
    public ChatMessage parseAndValidate() throws Exception {
        return parser.parse(record, Instant.parse("2024-01-01T00:00:00Z"));
    }

    @Benchmark
    public byte[] serialiseSnapshot() {
        return Json.toBytes(snapshot);
    }

    @Benchmark
    public Object piiRecognizers() {
        return pii.detect(TEXT);
    }

    @Benchmark
    public int stateFunctionPerMessage() throws Exception {
        long i = n++;
        harness.processElement(
                new ChatMessage(
                        "m" + i,
                        "acme",
                        "c" + (i % 1000),
                        i % 2 == 0 ? "customer" : "agent",
                        "my order is late, please help",
                        "chat",
                        Instant.ofEpochSecond(i),
                        Map.of(),
                        new SourceRef("t", 0, i)),
                i);
        int size = harness.getOutput().size();
        if (size > 10_000) {
            harness.getOutput().clear();
        }
        return size;
    }

    @Benchmark
    public Object localPii() {
        return LocalAgentProvider.run("pii", nextWindow());
    }

    @Benchmark
    public Object localSentiment() {
        return LocalAgentProvider.run("sentiment", nextWindow());
    }

    @Benchmark
    public Object localInsights() {
        return LocalAgentProvider.run("insights", nextWindow());
    }

    @Benchmark
    public Object localSummary() {
        return LocalAgentProvider.run("summary", nextWindow());
    }
}

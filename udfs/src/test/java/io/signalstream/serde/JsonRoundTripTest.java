package io.signalstream.serde;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.LineageRecord;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.events.Usage;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonRoundTripTest {

    private static final SourceRef SRC = new SourceRef("support.messages.raw", 2, 1017L);
    private static final Instant T1 = Instant.parse("2020-03-25T17:59:40Z");
    private static final Instant T2 = Instant.parse("2020-03-25T18:12:05.123Z");

    // real messages of conversation eGPmyP8XzT1HWlzAPv2u in ibm-twcc-dev.jsonl
    private static final String CUSTOMER_TEXT = "@SpotifyCares link";
    private static final String AGENT_TEXT =
            "@justcallmeLZ Hey there! Could you send over a screenshot of what you're seeing on"
                    + " your end? We'll check further /EX";

    static ChatMessage chatMessage() {
        return new ChatMessage(
                "1242873801202970630",
                "SpotifyCares",
                "eGPmyP8XzT1HWlzAPv2u",
                "customer",
                CUSTOMER_TEXT,
                "twitter",
                T1,
                Map.of("turn_index", "2", "lang", "en"),
                SRC);
    }

    static ConversationSnapshot snapshot() {
        TranscriptEntry agent =
                new TranscriptEntry("1242873350", "agent", AGENT_TEXT, T1.minusSeconds(106));
        TranscriptEntry customer =
                new TranscriptEntry("1242873801202970630", "customer", CUSTOMER_TEXT, T1);
        return new ConversationSnapshot(
                "SpotifyCares",
                "eGPmyP8XzT1HWlzAPv2u",
                3,
                3,
                customer,
                List.of(agent, customer),
                Instant.parse("2020-03-25T17:40:00Z"),
                T1,
                List.of("pii", "sentiment"),
                SRC);
    }

    static AgentResult agentResult() {
        Map<String, Object> entity = new LinkedHashMap<>();
        entity.put("type", "EMAIL_ADDRESS");
        entity.put("start", 19);
        entity.put("end", 41);
        entity.put("score", 0.95);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("has_pii", true);
        result.put("entities", List.of(entity));
        result.put("redacted_text", "my e-mail address: <EMAIL_ADDRESS_1>");
        return new AgentResult(
                "SpotifyCares",
                "eGPmyP8XzT1HWlzAPv2u",
                3,
                "1242873801202970630",
                "pii",
                "ok",
                "local",
                "local-pii",
                "local-v1",
                "0123456789abcdef",
                12,
                1,
                new Usage(120, 35),
                result,
                null);
    }

    static AggregatedIntelligence aggregated() {
        Map<String, Object> sentiment = new LinkedHashMap<>();
        sentiment.put("label", "neutral");
        sentiment.put("score", 0.0);
        sentiment.put("suggested_actions", new ArrayList<>(List.of("a", "b")));
        return new AggregatedIntelligence(
                "SpotifyCares",
                "eGPmyP8XzT1HWlzAPv2u",
                3,
                sentiment,
                agentResult().result(),
                null,
                null,
                Map.of("pii", agentResult().result(), "sentiment", sentiment),
                false,
                List.of("insights"),
                Map.of("pii", "ok", "sentiment", "ok", "insights", "missing"),
                List.of("1242873350", "1242873801202970630"),
                T2);
    }

    static LineageRecord lineage() {
        return new LineageRecord(
                "5b1c7f1e-0d7c-3a55-9c66-4b3c5b2f8a11",
                LineageRecord.EVENT_TYPE,
                "SpotifyCares",
                T2,
                "signalstream/conversation-intelligence",
                new LineageRecord.Data(
                        new LineageRecord.Output(
                                "support.ai.aggregated", "SpotifyCares:eGPmyP8XzT1HWlzAPv2u", 3),
                        List.of(
                                new LineageRecord.Input(
                                        "support.messages.raw", 2, 1016L, "1242873350", 2),
                                new LineageRecord.Input(
                                        "support.messages.raw",
                                        2,
                                        1017L,
                                        "1242873801202970630",
                                        3)),
                        Map.of("pii", LineageRecord.AgentLineage.of(agentResult()))));
    }

    static DeadLetter deadLetter() {
        return new DeadLetter(
                "parse",
                "unknown_sender",
                "sender 'bot' is not one of [customer, agent, system]",
                SRC,
                "SpotifyCares",
                "{\"sender\": \"bot\"}",
                "utf8",
                T2);
    }

    private static <T> T roundTrip(T value, Class<T> type) {
        return Json.fromBytes(Json.toBytes(value), type);
    }

    private static JsonNode tree(Object value) throws Exception {
        return Json.MAPPER.readTree(Json.toBytes(value));
    }

    @Test
    void chatMessageRoundTrips() throws Exception {
        ChatMessage m = chatMessage();

        assertThat(roundTrip(m, ChatMessage.class)).isEqualTo(m);
        JsonNode json = tree(m);
        assertThat(json.has("message_id")).isTrue();
        assertThat(json.has("conversation_id")).isTrue();
        assertThat(json.has("tenant_id")).isTrue();
        assertThat(json.has("messageId")).isFalse();
        assertThat(json.get("timestamp").asText()).isEqualTo("2020-03-25T17:59:40Z");
        assertThat(json.get("metadata").get("turn_index").asText()).isEqualTo("2");
        assertThat(json.get("source").get("offset").asLong()).isEqualTo(1017L);
        // derived accessors are not fields
        assertThat(json.has("conversation_key")).isFalse();
        assertThat(json.has("from_customer")).isFalse();
    }

    @Test
    void chatMessageReadsTheInputShape() {
        // ChatMessageParser's input JSON (minus source) is the same shape
        String json =
                "{\"message_id\":\"x1\",\"conversation_id\":\"c1\",\"tenant_id\":\"t1\","
                        + "\"sender\":\"agent\",\"message\":\""
                        + AGENT_TEXT
                        + "\","
                        + "\"channel\":\"twitter\",\"timestamp\":\"2020-03-25T19:59:40+02:00\","
                        + "\"metadata\":{\"k\":\"v\"},\"unknown_field\":1}";

        ChatMessage m = Json.fromBytes(json.getBytes(StandardCharsets.UTF_8), ChatMessage.class);

        assertThat(m.conversationId()).isEqualTo("c1");
        assertThat(m.message()).isEqualTo(AGENT_TEXT);
        assertThat(m.timestamp()).isEqualTo(T1);
        assertThat(m.metadata()).containsExactly(Map.entry("k", "v"));
        assertThat(m.source()).isNull();
    }

    @Test
    void snapshotRoundTrips() throws Exception {
        ConversationSnapshot s = snapshot();

        assertThat(roundTrip(s, ConversationSnapshot.class)).isEqualTo(s);
        JsonNode json = tree(s);
        assertThat(json.get("scheduled_agents")).hasSize(2);
        assertThat(json.get("scheduled_agents").get(0).asText()).isEqualTo("pii");
        assertThat(json.get("message_count").asLong()).isEqualTo(3);
        assertThat(json.get("recent_messages")).hasSize(2);
        assertThat(json.get("recent_messages").get(1).get("message_id").asText())
                .isEqualTo("1242873801202970630");
        assertThat(json.get("last_message").get("message").asText()).isEqualTo(CUSTOMER_TEXT);
        assertThat(json.get("first_activity").asText()).isEqualTo("2020-03-25T17:40:00Z");
        assertThat(json.get("last_activity").asText()).endsWith("Z");
    }

    @Test
    void agentResultRoundTrips() throws Exception {
        AgentResult r = agentResult();

        AgentResult back = roundTrip(r, AgentResult.class);

        assertThat(back).isEqualTo(r);
        assertThat(back.result().get("entities")).isEqualTo(r.result().get("entities"));
        JsonNode json = tree(r);
        assertThat(json.get("prompt_version").asText()).isEqualTo("local-v1");
        assertThat(json.get("prompt_hash").asText()).isEqualTo("0123456789abcdef");
        assertThat(json.get("latency_ms").asLong()).isEqualTo(12);
        assertThat(json.get("usage").get("prompt_tokens").asLong()).isEqualTo(120);
        assertThat(json.get("usage").get("completion_tokens").asLong()).isEqualTo(35);
        assertThat(json.get("result").get("has_pii").asBoolean()).isTrue();
        assertThat(json.has("error")).as("null fields are written").isTrue();
        assertThat(json.get("error").isNull()).isTrue();
        assertThat(json.has("has_answer")).isFalse();
    }

    @Test
    void agentResultWithoutUsageOrResultGetsDefaults() {
        String json =
                "{\"tenant_id\":\"t\",\"conversation_id\":\"c\",\"version\":1,\"agent\":\"pii\","
                        + "\"status\":\"failed\",\"error\":\"boom\"}";

        AgentResult r = Json.fromBytes(json.getBytes(StandardCharsets.UTF_8), AgentResult.class);

        assertThat(r.usage()).isEqualTo(Usage.NONE);
        assertThat(r.result()).isEmpty();
        assertThat(r.hasAnswer()).isFalse();
    }

    @Test
    void aggregatedIntelligenceRoundTrips() throws Exception {
        AggregatedIntelligence a = aggregated();

        assertThat(roundTrip(a, AggregatedIntelligence.class)).isEqualTo(a);
        JsonNode json = tree(a);
        assertThat(json.get("last_updated").asText()).isEqualTo("2020-03-25T18:12:05.123Z");
        assertThat(json.get("missing_agents").get(0).asText()).isEqualTo("insights");
        assertThat(json.get("agent_status").get("insights").asText()).isEqualTo("missing");
        assertThat(json.get("source_message_ids")).hasSize(2);
        assertThat(json.get("complete").asBoolean()).isFalse();
        assertThat(json.get("insights").isNull()).isTrue();
        assertThat(json.get("pii").get("redacted_text").asText())
                .isEqualTo("my e-mail address: <EMAIL_ADDRESS_1>");
    }

    @Test
    void lineageRecordRoundTrips() throws Exception {
        LineageRecord l = lineage();

        assertThat(roundTrip(l, LineageRecord.class)).isEqualTo(l);
        JsonNode json = tree(l);
        assertThat(json.get("event_id").asText()).isEqualTo(l.eventId());
        assertThat(json.get("event_type").asText()).isEqualTo("aggregated_intelligence.lineage");
        assertThat(json.get("timestamp").asText()).isEqualTo("2020-03-25T18:12:05.123Z");
        JsonNode data = json.get("data");
        assertThat(data.get("output").get("key").asText())
                .isEqualTo("SpotifyCares:eGPmyP8XzT1HWlzAPv2u");
        assertThat(data.get("inputs").get(1).get("message_id").asText())
                .isEqualTo("1242873801202970630");
        JsonNode pii = data.get("agents").get("pii");
        assertThat(pii.get("prompt_tokens").asLong()).isEqualTo(120);
        assertThat(pii.get("completion_tokens").asLong()).isEqualTo(35);
        assertThat(pii.get("latency_ms").asLong()).isEqualTo(12);
        assertThat(pii.get("prompt_hash").asText()).isEqualTo("0123456789abcdef");
    }

    @Test
    void deadLetterRoundTrips() throws Exception {
        DeadLetter d = deadLetter();

        assertThat(roundTrip(d, DeadLetter.class)).isEqualTo(d);
        JsonNode json = tree(d);
        assertThat(json.get("error_type").asText()).isEqualTo("unknown_sender");
        assertThat(json.get("error_message").asText()).contains("bot");
        assertThat(json.get("original_encoding").asText()).isEqualTo("utf8");
        assertThat(json.get("timestamp").asText()).isEqualTo("2020-03-25T18:12:05.123Z");
    }

    @Test
    void unreadableBytesGiveUncheckedIoException() {
        assertThatThrownBy(
                        () ->
                                Json.fromBytes(
                                        "{\"version\": \"three\"}".getBytes(StandardCharsets.UTF_8),
                                        AgentResult.class))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("AgentResult");
    }

    @Test
    void toStringMatchesToBytes() {
        ConversationSnapshot s = snapshot();

        assertThat(Json.toString(s)).isEqualTo(new String(Json.toBytes(s), StandardCharsets.UTF_8));
    }

    // --- EventSerialization -------------------------------------------------------------

    private static String key(ProducerRecord<byte[], byte[]> r) {
        return r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
    }

    @Test
    void agentResultsGoToPrefixPlusAgentTopic() {
        AgentResult pii = agentResult();
        Map<String, Object> sentimentAnswer = Map.of("label", "neutral");
        AgentResult sentiment =
                new AgentResult(
                        "SpotifyCares",
                        "eGPmyP8XzT1HWlzAPv2u",
                        3,
                        "m",
                        "sentiment",
                        "ok",
                        "local",
                        "local-sentiment",
                        "local-v1",
                        "h",
                        1,
                        1,
                        Usage.NONE,
                        sentimentAnswer,
                        null);
        var schema = EventSerialization.agentResults("support.ai.");

        ProducerRecord<byte[], byte[]> a = schema.serialize(pii, null, 1234L);
        ProducerRecord<byte[], byte[]> b = schema.serialize(sentiment, null, 1234L);

        assertThat(a.topic()).isEqualTo("support.ai.pii");
        assertThat(b.topic()).isEqualTo("support.ai.sentiment");
        assertThat(key(a)).isEqualTo("SpotifyCares:eGPmyP8XzT1HWlzAPv2u");
        assertThat(a.timestamp()).isEqualTo(1234L);
        assertThat(a.partition()).isNull();
        assertThat(Json.fromBytes(a.value(), AgentResult.class)).isEqualTo(pii);
    }

    @Test
    void snapshotsAggregatedAndLineageAreKeyedByConversation() {
        ProducerRecord<byte[], byte[]> s =
                EventSerialization.snapshots("support.conversations.state")
                        .serialize(snapshot(), null, null);
        ProducerRecord<byte[], byte[]> a =
                EventSerialization.aggregated("support.ai.aggregated")
                        .serialize(aggregated(), null, 5L);
        ProducerRecord<byte[], byte[]> l =
                EventSerialization.lineage("support.lineage").serialize(lineage(), null, 5L);

        assertThat(s.topic()).isEqualTo("support.conversations.state");
        assertThat(key(s)).isEqualTo("SpotifyCares:eGPmyP8XzT1HWlzAPv2u");
        assertThat(Json.fromBytes(s.value(), ConversationSnapshot.class)).isEqualTo(snapshot());
        assertThat(a.topic()).isEqualTo("support.ai.aggregated");
        assertThat(key(a)).isEqualTo("SpotifyCares:eGPmyP8XzT1HWlzAPv2u");
        assertThat(Json.fromBytes(a.value(), AggregatedIntelligence.class)).isEqualTo(aggregated());
        assertThat(l.topic()).isEqualTo("support.lineage");
        assertThat(key(l)).isEqualTo(lineage().data().output().key());
    }

    @Test
    void alertsRoundTripWithTheirShapeAndAreKeyedByConversation() throws Exception {
        Alert alert =
                new Alert(
                        Alert.idOf("SpotifyCares:eGPmyP8XzT1HWlzAPv2u", T2, Alert.PII_SHARED, 3),
                        "SpotifyCares",
                        "eGPmyP8XzT1HWlzAPv2u",
                        3,
                        Alert.PII_SHARED,
                        Alert.WARNING,
                        "customer shared personal data (EMAIL_ADDRESS); do not echo it",
                        new Alert.Evidence(List.of("m3"), List.of(3L)),
                        T2);
        ProducerRecord<byte[], byte[]> r =
                EventSerialization.alerts("support.alerts").serialize(alert, null, 1L);
        assertThat(r.topic()).isEqualTo("support.alerts");
        assertThat(key(r)).isEqualTo("SpotifyCares:eGPmyP8XzT1HWlzAPv2u");
        assertThat(Json.fromBytes(r.value(), Alert.class)).isEqualTo(alert);
        com.fasterxml.jackson.databind.JsonNode n = Json.MAPPER.readTree(r.value());
        assertThat(n.get("alert_id").asText()).isEqualTo(alert.alertId());
        assertThat(n.at("/evidence/message_ids/0").asText()).isEqualTo("m3");
        assertThat(n.at("/evidence/versions/0").asLong()).isEqualTo(3);
        assertThat(n.get("created_at").asText()).isEqualTo(T2.toString());
        assertThat(Alert.idOf("SpotifyCares:eGPmyP8XzT1HWlzAPv2u", T2, Alert.PII_SHARED, 4))
                .as("another episode, another id")
                .isNotEqualTo(alert.alertId());
    }

    @Test
    void deadLettersAreKeyedByTenantOrUnkeyed() {
        var schema = EventSerialization.deadLetters("support.dlq");
        DeadLetter noTenant =
                new DeadLetter(
                        "parse", "invalid_utf8", "not UTF-8", SRC, null, "wyg=", "base64", T2);

        ProducerRecord<byte[], byte[]> withTenant = schema.serialize(deadLetter(), null, 1L);
        ProducerRecord<byte[], byte[]> without = schema.serialize(noTenant, null, 1L);

        assertThat(withTenant.topic()).isEqualTo("support.dlq");
        assertThat(key(withTenant)).isEqualTo("SpotifyCares");
        assertThat(without.key()).isNull();
        assertThat(Json.fromBytes(without.value(), DeadLetter.class)).isEqualTo(noTenant);
    }
}

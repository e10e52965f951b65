package io.signalstream.serde;

import io.signalstream.events.ChatMessage;
import io.signalstream.events.RawRecord;
import io.signalstream.events.SourceRef;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ChatMessageParserTest {

    /** Processing time of every parse: after the sample's timestamp (2020-03-27). */
    private static final Instant NOW = Instant.parse("2020-04-02T00:00:00Z");

    private static final long KAFKA_TS = Instant.parse("2020-03-27T21:50:00Z").toEpochMilli();

    /** A real customer message from ibm-twcc-dev.jsonl (conversation btl6ofX5a6TSNB3b3rkV). */
    private static final String TEXT =
            "adobe crashes on import all the fucking time and im so done";

    private final ChatMessageParser parser = ChatMessageParser.withDefaults();

    private static ObjectNode validNode() {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("message_id", "1243656120167735296");
        n.put("conversation_id", "btl6ofX5a6TSNB3b3rkV");
        n.put("tenant_id", "AdobeCare");
        n.put("sender", "customer");
        n.put("message", TEXT);
        n.put("channel", "twitter");
        n.put("timestamp", "2020-03-27T21:48:19.000Z");
        ObjectNode meta = n.putObject("metadata");
        meta.put("turn_index", 0);
        meta.put("verified", true);
        meta.put("lang", "en");
        meta.putArray("tags").add("crash").add("import");
        return n;
    }

    /** Only the required fields, so the record stays small. */
    private static ObjectNode minimalNode(String text) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("tenant_id", "AdobeCare");
        n.put("conversation_id", "btl6ofX5a6TSNB3b3rkV");
        n.put("sender", "customer");
        n.put("message", text);
        return n;
    }

    private static ObjectNode node(Consumer<ObjectNode> change) {
        ObjectNode n = validNode();
        change.accept(n);
        return n;
    }

    private static RawRecord record(byte[] value) {
        return new RawRecord("support.messages.raw", 3, 42L, KAFKA_TS, null, value);
    }

    private static RawRecord record(String json) {
        return record(json.getBytes(StandardCharsets.UTF_8));
    }

    private static RawRecord record(ObjectNode node) {
        return record(node.toString());
    }

    private MessageValidationException rejection(ChatMessageParser p, RawRecord r) {
        MessageValidationException e =
                catchThrowableOfType(MessageValidationException.class, () -> p.parse(r, NOW));
        assertThat(e).as("expected a MessageValidationException").isNotNull();
        return e;
    }

    private MessageValidationException rejection(RawRecord r) {
        return rejection(parser, r);
    }

    private MessageValidationException rejection(ObjectNode n) {
        return rejection(parser, record(n));
    }

    @Test
    void validMessageParsesWithAllFields() throws Exception {
        ChatMessage m = parser.parse(record(validNode()), NOW);

        assertThat(m.messageId()).isEqualTo("1243656120167735296");
        assertThat(m.tenantId()).isEqualTo("AdobeCare");
        assertThat(m.conversationId()).isEqualTo("btl6ofX5a6TSNB3b3rkV");
        assertThat(m.sender()).isEqualTo("customer");
        assertThat(m.fromCustomer()).isTrue();
        assertThat(m.message()).isEqualTo(TEXT);
        assertThat(m.channel()).isEqualTo("twitter");
        assertThat(m.timestamp()).isEqualTo(Instant.parse("2020-03-27T21:48:19Z"));
        assertThat(m.metadata())
                .containsOnlyKeys("turn_index", "verified", "lang", "tags")
                .containsEntry("turn_index", "0")
                .containsEntry("verified", "true")
                .containsEntry("lang", "en")
                .containsEntry("tags", "[\"crash\",\"import\"]");
        assertThat(m.source()).isEqualTo(new SourceRef("support.messages.raw", 3, 42L));
        assertThat(m.conversationKey()).isEqualTo("AdobeCare:btl6ofX5a6TSNB3b3rkV");
    }

    @Test
    void timestampWithOffsetIsConvertedToUtc() throws Exception {
        ChatMessage m =
                parser.parse(
                        record(node(n -> n.put("timestamp", "2020-03-27T23:48:19+02:00"))), NOW);

        assertThat(m.timestamp()).isEqualTo(Instant.parse("2020-03-27T21:48:19Z"));
    }

    @Test
    void missingChannelAndMetadataGetDefaults() throws Exception {
        ChatMessage m =
                parser.parse(record(node(n -> n.remove(List.of("channel", "metadata")))), NOW);

        assertThat(m.channel()).isEqualTo("unknown");
        assertThat(m.metadata()).isEmpty();
    }

    @Test
    void nullValueIsRejected() {
        MessageValidationException e = rejection(record((byte[]) null));

        assertThat(e.errorType()).isEqualTo("null_value");
        assertThat(e.tenantId()).isNull();
    }

    @Test
    void oversizedRecordIsRejectedBeforeDecoding() {
        ChatMessageParser small = new ChatMessageParser(16, 128, Duration.ofDays(1));

        MessageValidationException e = rejection(small, record(validNode()));

        assertThat(e.errorType()).isEqualTo("oversized_record");
    }

    @Test
    void invalidUtf8IsRejected() {
        MessageValidationException e = rejection(record(new byte[] {(byte) 0xC3, (byte) 0x28}));

        assertThat(e.errorType()).isEqualTo("invalid_utf8");
        assertThat(e.tenantId()).isNull();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"tenant_id\": \"AdobeCare\"",
                "not json at all",
                "{\"tenant_id\": \"AdobeCare\"} {\"x\": 1}",
                "{tenant_id: AdobeCare}"
            })
    void malformedJsonIsRejected(String json) {
        MessageValidationException e = rejection(record(json));

        assertThat(e.errorType()).isEqualTo("malformed_json");
        assertThat(e.tenantId()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1, 2]", "\"adobe crashes on import\"", "42", "null"})
    void jsonThatIsNotAnObjectIsRejected(String json) {
        MessageValidationException e = rejection(record(json));

        assertThat(e.errorType()).isEqualTo("not_an_object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tenant_id", "conversation_id", "sender", "message"})
    void missingRequiredFieldIsRejected(String field) {
        MessageValidationException e = rejection(node(n -> n.remove(field)));

        assertThat(e.errorType()).isEqualTo("missing_field");
        assertThat(e.getMessage()).contains(field);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conversation_id", "sender", "message"})
    void nullRequiredFieldIsMissingAndNamesTheTenant(String field) {
        MessageValidationException e = rejection(node(n -> n.putNull(field)));

        assertThat(e.errorType()).isEqualTo("missing_field");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @ParameterizedTest
    @ValueSource(strings = {"conversation_id", "sender", "message", "message_id", "channel"})
    void nonStringFieldIsWrongType(String field) {
        MessageValidationException e = rejection(node(n -> n.put(field, 12345)));

        assertThat(e.errorType()).isEqualTo("wrong_type");
        assertThat(e.getMessage()).contains(field);
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @Test
    void nonStringTenantIsWrongTypeWithoutTenant() {
        MessageValidationException e = rejection(node(n -> n.put("tenant_id", 7)));

        assertThat(e.errorType()).isEqualTo("wrong_type");
        assertThat(e.tenantId()).isNull();
    }

    @Test
    void numericTimestampIsWrongType() {
        MessageValidationException e = rejection(node(n -> n.put("timestamp", 1585345699000L)));

        assertThat(e.errorType()).isEqualTo("wrong_type");
        assertThat(e.getMessage()).contains("timestamp");
    }

    @Test
    void nonObjectMetadataIsWrongType() {
        MessageValidationException e = rejection(node(n -> n.put("metadata", "turn 0")));

        assertThat(e.errorType()).isEqualTo("wrong_type");
        assertThat(e.getMessage()).contains("metadata");
    }

    @Test
    void emptyTenantIdIsInvalidAndHasNoTenant() {
        MessageValidationException e = rejection(node(n -> n.put("tenant_id", "")));

        assertThat(e.errorType()).isEqualTo("invalid_id");
        assertThat(e.tenantId()).isNull();
    }

    @Test
    void blankConversationIdIsInvalid() {
        MessageValidationException e = rejection(node(n -> n.put("conversation_id", "   ")));

        assertThat(e.errorType()).isEqualTo("invalid_id");
        assertThat(e.getMessage()).contains("conversation_id");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @Test
    void overLongIdIsInvalidButAnIdAtTheLimitIsAccepted() throws Exception {
        ChatMessageParser p = new ChatMessageParser(64 * 1024, 20, Duration.ofDays(1));

        // "btl6ofX5a6TSNB3b3rkV" has exactly 20 characters
        assertThat(p.parse(record(validNode().put("message_id", "m-1")), NOW).conversationId())
                .isEqualTo("btl6ofX5a6TSNB3b3rkV");
        MessageValidationException e =
                rejection(p, record(node(n -> n.put("conversation_id", "btl6ofX5a6TSNB3b3rkVx"))));
        assertThat(e.errorType()).isEqualTo("invalid_id");
        assertThat(e.getMessage()).contains("conversation_id").contains("21");

        MessageValidationException longMessageId =
                rejection(p, record(node(n -> n.put("message_id", "1243656120167735296-abc"))));
        assertThat(longMessageId.errorType()).isEqualTo("invalid_id");
        assertThat(longMessageId.getMessage()).contains("message_id");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tenant_id", "conversation_id", "message_id"})
    void idWithControlCharacterIsInvalid(String field) {
        MessageValidationException e = rejection(node(n -> n.put(field, "abc\u0001def")));

        assertThat(e.errorType()).isEqualTo("invalid_id");
        assertThat(e.getMessage()).contains(field);
    }

    @Test
    void idWithTabIsInvalidEvenThoughBodiesMayHoldTabs() {
        MessageValidationException e = rejection(node(n -> n.put("conversation_id", "abc\tdef")));

        assertThat(e.errorType()).isEqualTo("invalid_id");
    }

    @Test
    void colonInTenantIdIsInvalid() {
        MessageValidationException e = rejection(node(n -> n.put("tenant_id", "Adobe:Care")));

        assertThat(e.errorType()).isEqualTo("invalid_id");
        assertThat(e.getMessage()).contains("':'");
    }

    @Test
    void colonInConversationIdIsAccepted() throws Exception {
        ChatMessage m = parser.parse(record(node(n -> n.put("conversation_id", "a:b"))), NOW);

        assertThat(m.conversationId()).isEqualTo("a:b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bot", "Customer", "CUSTOMER", ""})
    void unknownSenderIsRejected(String sender) {
        MessageValidationException e = rejection(node(n -> n.put("sender", sender)));

        assertThat(e.errorType()).isEqualTo("unknown_sender");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @ParameterizedTest
    @ValueSource(strings = {"customer", "agent", "system"})
    void knownSendersAreAccepted(String sender) throws Exception {
        assertThat(parser.parse(record(node(n -> n.put("sender", sender))), NOW).sender())
                .isEqualTo(sender);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\n\t "})
    void emptyMessageIsRejected(String body) {
        MessageValidationException e = rejection(node(n -> n.put("message", body)));

        assertThat(e.errorType()).isEqualTo("empty_message");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @Test
    void messageOverTheByteLimitIsTooLarge() throws Exception {
        // TEXT is 59 ASCII bytes; the whole record stays below 4 x the limit
        ChatMessageParser p = new ChatMessageParser(58, 128, Duration.ofDays(1));
        ChatMessageParser exact = new ChatMessageParser(59, 128, Duration.ofDays(1));
        ObjectNode n = minimalNode(TEXT);
        assertThat(record(n).value().length).isLessThanOrEqualTo(4 * 58);

        MessageValidationException e = rejection(p, record(n));

        assertThat(e.errorType()).isEqualTo("message_too_large");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
        assertThat(exact.parse(record(n), NOW).message()).isEqualTo(TEXT);
    }

    @Test
    void messageLimitCountsUtf8BytesNotChars() {
        // a real message with a curly apostrophe (3 UTF-8 bytes, 1 char): 70 chars, 72 bytes
        String text = "@AdobeCare I\u2019ve also updated my drivers to see if that was the issue.";
        assertThat(text.length()).isLessThan(text.getBytes(StandardCharsets.UTF_8).length);
        ChatMessageParser p = new ChatMessageParser(text.length(), 128, Duration.ofDays(1));

        ObjectNode n = minimalNode(text);
        assertThat(record(n).value().length).isLessThanOrEqualTo(4 * text.length());

        MessageValidationException e = rejection(p, record(n));

        assertThat(e.errorType()).isEqualTo("message_too_large");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u0000", "\u0007", "\u001b[31m", "\u007f", "\u0085"})
    void controlCharactersInMessageAreRejected(String control) {
        MessageValidationException e =
                rejection(node(n -> n.put("message", "adobe crashes " + control + "on import")));

        assertThat(e.errorType()).isEqualTo("control_characters");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @Test
    void tabsAndNewlinesInMessageAreAccepted() throws Exception {
        // a real two-line message from the data set
        String text =
                "I'm going to fucking puke\nMy \"It\" review has been banned world wide because"
                        + " of copyright...\r\n\t";
        ChatMessage m = parser.parse(record(node(n -> n.put("message", text))), NOW);

        assertThat(m.message()).isEqualTo(text);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "yesterday",
                "2020-03-27 21:48:19",
                "2020-03-27T21:48:19",
                "2020-13-01T00:00:00Z"
            })
    void nonIsoTimestampIsInvalid(String ts) {
        MessageValidationException e = rejection(node(n -> n.put("timestamp", ts)));

        assertThat(e.errorType()).isEqualTo("invalid_timestamp");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @Test
    void timestampTooFarInTheFutureIsRejected() throws Exception {
        ChatMessageParser p = new ChatMessageParser(64 * 1024, 128, Duration.ofHours(1));
        String justInside = NOW.plus(Duration.ofMinutes(59)).toString();
        String tooFar = NOW.plus(Duration.ofMinutes(61)).toString();

        assertThat(p.parse(record(node(n -> n.put("timestamp", justInside))), NOW).timestamp())
                .isEqualTo(Instant.parse(justInside));
        MessageValidationException e = rejection(p, record(node(n -> n.put("timestamp", tooFar))));
        assertThat(e.errorType()).isEqualTo("future_timestamp");
        assertThat(e.tenantId()).isEqualTo("AdobeCare");
    }

    @Test
    void missingTimestampTakesTheKafkaRecordTimestamp() throws Exception {
        ChatMessage absent = parser.parse(record(node(n -> n.remove("timestamp"))), NOW);
        ChatMessage explicitNull = parser.parse(record(node(n -> n.putNull("timestamp"))), NOW);

        assertThat(absent.timestamp()).isEqualTo(Instant.ofEpochMilli(KAFKA_TS));
        assertThat(explicitNull.timestamp()).isEqualTo(Instant.ofEpochMilli(KAFKA_TS));
    }

    @Test
    void missingTimestampWithoutKafkaTimestampTakesProcessingTime() throws Exception {
        RawRecord noTs =
                new RawRecord(
                        "support.messages.raw",
                        0,
                        1L,
                        -1L,
                        null,
                        node(n -> n.remove("timestamp"))
                                .toString()
                                .getBytes(StandardCharsets.UTF_8));

        assertThat(parser.parse(noTs, NOW).timestamp()).isEqualTo(NOW);
    }

    @Test
    void missingMessageIdIsDerivedDeterministically() throws Exception {
        ObjectNode withoutId = node(n -> n.remove("message_id"));
        RawRecord first = record(withoutId);
        RawRecord redelivered =
                new RawRecord("support.messages.raw", 3, 99L, KAFKA_TS + 5000, null, first.value());

        ChatMessage a = parser.parse(first, NOW);
        ChatMessage b = parser.parse(redelivered, NOW);
        ChatMessage otherText =
                parser.parse(
                        record(
                                node(
                                        n -> {
                                            n.remove("message_id");
                                            n.put(
                                                    "message",
                                                    "@Adobe please fix this! So many people have"
                                                        + " this awful bug and from my research its"
                                                        + " mainly unfixable !");
                                        })),
                        NOW);
        ChatMessage otherSender =
                parser.parse(
                        record(
                                node(
                                        n -> {
                                            n.remove("message_id");
                                            n.put("sender", "agent");
                                        })),
                        NOW);

        assertThat(a.messageId()).matches("m-[0-9a-f]{24}");
        assertThat(b.messageId()).isEqualTo(a.messageId());
        assertThat(otherText.messageId()).matches("m-[0-9a-f]{24}").isNotEqualTo(a.messageId());
        assertThat(otherSender.messageId()).isNotEqualTo(a.messageId());
    }

    @Test
    void withoutIdAndTimestampTheKafkaTimeKeepsRepeatedMessagesApart() throws Exception {
        ObjectNode bare =
                node(
                        n -> {
                            n.remove("message_id");
                            n.remove("timestamp");
                        });
        RawRecord first = record(bare);
        RawRecord sameRecordReadAgain =
                new RawRecord("support.messages.raw", 3, 99L, KAFKA_TS, null, first.value());
        RawRecord sentAgainLater =
                new RawRecord(
                        "support.messages.raw", 3, 100L, KAFKA_TS + 60_000, null, first.value());

        String a = parser.parse(first, NOW).messageId();
        assertThat(parser.parse(sameRecordReadAgain, NOW).messageId()).isEqualTo(a);
        assertThat(parser.parse(sentAgainLater, NOW).messageId()).isNotEqualTo(a);
    }

    @Test
    void derivedMessageIdDependsOnTenantAndConversation() throws Exception {
        String a = parser.parse(record(node(n -> n.remove("message_id"))), NOW).messageId();
        String otherTenant =
                parser.parse(
                                record(
                                        node(
                                                n -> {
                                                    n.remove("message_id");
                                                    n.put("tenant_id", "AdobeCare2");
                                                })),
                                NOW)
                        .messageId();
        String otherConversation =
                parser.parse(
                                record(
                                        node(
                                                n -> {
                                                    n.remove("message_id");
                                                    n.put(
                                                            "conversation_id",
                                                            "eGPmyP8XzT1HWlzAPv2u");
                                                })),
                                NOW)
                        .messageId();

        assertThat(otherTenant).isNotEqualTo(a);
        assertThat(otherConversation).isNotEqualTo(a).isNotEqualTo(otherTenant);
    }

    @Test
    void fieldSeparatorPreventsAmbiguousDerivedIds() {
        // "ab" + "c" must not hash like "a" + "bc"
        String x = ChatMessageParser.deriveMessageId("ab", "c", "kafka:1", "customer", TEXT);
        String y = ChatMessageParser.deriveMessageId("a", "bc", "kafka:1", "customer", TEXT);

        assertThat(x).isNotEqualTo(y);
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        // the data set's own extra fields (turn_index, source_msg_id)
        ChatMessage m =
                parser.parse(
                        record(
                                node(
                                        n -> {
                                            n.put("turn_index", 0);
                                            n.put("source_msg_id", "1243656120167735296");
                                        })),
                        NOW);

        assertThat(m.message()).isEqualTo(TEXT);
        assertThat(m.metadata()).doesNotContainKey("source_msg_id");
    }

    @Test
    void realDataSetLineParses() throws Exception {
        // line 1 of ibm-twcc-dev.jsonl verbatim (no message_id: it is derived)
        String line =
                "{\"conversation_id\": \"LgwAXtbbEm0mBvDrGmjk\", \"tenant_id\": \"TeamYouTube\","
                    + " \"sender\": \"customer\", \"message\": \"@TeamYouTube Hello dear youtube"
                    + " officers, my channel has been suspended 1 year, I sent an e-mail, no"
                    + " answer, please open my channel back :( channel link: https:"
                    + " //www.youtube.com/channel/UCW97Zu1780HRMZoMMhlW06g\\n"
                    + "\\n"
                    + "my e-mail address: zekidemir089@gmail.com\", \"timestamp\":"
                    + " \"2020-04-01T17:31:32.000Z\", \"turn_index\": 0, \"source_msg_id\":"
                    + " \"1245403438755852288\"}";

        ChatMessage m = parser.parse(record(line), NOW);

        assertThat(m.tenantId()).isEqualTo("TeamYouTube");
        assertThat(m.conversationId()).isEqualTo("LgwAXtbbEm0mBvDrGmjk");
        assertThat(m.message()).contains("\n\nmy e-mail address: zekidemir089@gmail.com");
        assertThat(m.timestamp()).isEqualTo(Instant.parse("2020-04-01T17:31:32Z"));
        assertThat(m.channel()).isEqualTo("unknown");
        assertThat(m.messageId()).startsWith("m-");
    }

    @Test
    void dataSetLineWithNullTimestampTakesTheKafkaTime() throws Exception {
        // line 2 of ibm-twcc-dev.jsonl has "timestamp": null: it is accepted with the Kafka time
        String line =
                "{\"conversation_id\": \"LgwAXtbbEm0mBvDrGmjk\", \"tenant_id\": \"TeamYouTube\","
                    + " \"sender\": \"agent\", \"message\": \"@CinVakas Thanks for the tag \u2013"
                    + " if you believe the suspension was done in error, you can appeal so that our"
                    + " policy team can take another look.\", \"timestamp\": null}";

        ChatMessage m = parser.parse(record(line), NOW);

        assertThat(m.sender()).isEqualTo("agent");
        assertThat(m.timestamp()).isEqualTo(Instant.ofEpochMilli(KAFKA_TS));
    }

    @Test
    void exceptionCarriesItsReason() {
        assertThatThrownBy(() -> parser.parse(record(node(n -> n.put("sender", "bot"))), NOW))
                .isInstanceOf(MessageValidationException.class)
                .hasMessageContaining("bot")
                .hasMessageContaining("customer");
    }

    @Test
    void nullMetadataValueBecomesText() {
        // metadata values that are JSON null become the text "null"
        Map<String, String> meta =
                catchMeta(node(n -> ((ObjectNode) n.get("metadata")).putNull("agent_id")));
        assertThat(meta).containsEntry("agent_id", "null");
    }

    private Map<String, String> catchMeta(ObjectNode n) {
        try {
            return parser.parse(record(n), NOW).metadata();
        } catch (MessageValidationException e) {
            throw new AssertionError(e);
        }
    }
}

package io.signalstream.serde;

import io.signalstream.events.ChatMessage;
import io.signalstream.events.RawRecord;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Parses and validates one raw Kafka record of {@code support.messages.raw} into a {@link
 * ChatMessage}.
 *
 * <p>Rules, each with the {@code error_type} written to the dead-letter queue when broken:
 *
 * <ul>
 *   <li>{@code null_value}: the Kafka value is null
 *   <li>{@code oversized_record}: the value is larger than {@code 4 × maxMessageBytes}
 *   <li>{@code invalid_utf8}: the value is not valid UTF-8
 *   <li>{@code malformed_json}: not parseable JSON; {@code not_an_object}: JSON but not an object
 *   <li>{@code missing_field}: {@code tenant_id}, {@code conversation_id}, {@code sender} or {@code
 *       message} absent or null
 *   <li>{@code wrong_type}: a field of the wrong JSON type
 *   <li>{@code invalid_id}: an id that is empty, longer than {@code maxIdLength} characters, or
 *       contains control characters or {@code ':'} in the tenant id (the key separator)
 *   <li>{@code unknown_sender}: sender not {@code customer | agent | system}
 *   <li>{@code empty_message}, {@code message_too_large} (UTF-8 bytes over {@code
 *       maxMessageBytes}), {@code control_characters} (C0 controls other than tab, CR, LF)
 *   <li>{@code invalid_timestamp}: not ISO-8601; {@code future_timestamp}: later than the
 *       processing time plus {@code maxFutureSkew}
 * </ul>
 *
 * <p>A missing {@code timestamp} takes the Kafka record timestamp; a missing {@code message_id} is
 * derived from a SHA-256 of tenant, conversation, timestamp, sender and text, so a re-delivered
 * copy gets the same id. When the timestamp is missing too, the Kafka record timestamp takes its
 * place in the hash: two identical messages sent at different times stay two messages (a producer
 * that wants re-sends de-duplicated must send a {@code message_id} or a {@code timestamp}).
 */
public final class ChatMessageParser implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Valid sender values. */
    public static final Set<String> SENDERS = Set.of("customer", "agent", "system");

    private final int maxMessageBytes;
    private final int maxIdLength;
    private final Duration maxFutureSkew;

    /**
     * @param maxMessageBytes largest accepted message body in UTF-8 bytes (default 65536)
     * @param maxIdLength longest accepted id in characters (default 128)
     * @param maxFutureSkew how far in the future a timestamp may be (default 1 day)
     */
    public ChatMessageParser(int maxMessageBytes, int maxIdLength, Duration maxFutureSkew) {
        this.maxMessageBytes = maxMessageBytes;
        this.maxIdLength = maxIdLength;
        this.maxFutureSkew = maxFutureSkew;
    }

    /** A parser with the default limits (64 KiB body, 128-character ids, 1 day of skew). */
    public static ChatMessageParser withDefaults() {
        return new ChatMessageParser(64 * 1024, 128, Duration.ofDays(1));
    }

    /**
     * Parses and validates a record.
     *
     * @param record the raw Kafka record
     * @param now the processing time, for the future-timestamp rule
     * @return the validated message
     * @throws MessageValidationException with the reason when the record is not a valid message
     */
    public ChatMessage parse(RawRecord record, Instant now) throws MessageValidationException {
        byte[] value = record.value();
        if (value == null) {
            throw invalid("null_value", "the Kafka record value is null", null);
        }
        if (value.length > 4L * maxMessageBytes) {
            throw invalid(
                    "oversized_record",
                    "record of " + value.length + " bytes exceeds " + 4L * maxMessageBytes,
                    null);
        }
        String text = decodeUtf8(value);
        JsonNode node;
        try {
            JsonParser parser = Json.MAPPER.createParser(text);
            node = Json.MAPPER.readTree(parser);
            if (node != null && parser.nextToken() != null) {
                throw invalid("malformed_json", "trailing content after the JSON value", null);
            }
        } catch (JsonProcessingException e) {
            throw invalid("malformed_json", "not valid JSON: " + e.getOriginalMessage(), null);
        } catch (java.io.IOException e) {
            throw invalid("malformed_json", "not valid JSON: " + e.getMessage(), null);
        }
        if (node == null || !node.isObject()) {
            throw invalid(
                    "not_an_object",
                    "expected a JSON object, got "
                            + (node == null ? "nothing" : node.getNodeType()),
                    null);
        }
        String tenant = optionalText(node, "tenant_id", null);
        String tenantForDlq = tenant != null && !tenant.isBlank() ? tenant : null;
        tenant = requiredText(node, "tenant_id", tenantForDlq);
        checkId("tenant_id", tenant, tenantForDlq);
        if (tenant.indexOf(':') >= 0) {
            throw invalid("invalid_id", "tenant_id must not contain ':'", tenantForDlq);
        }
        String conversation = requiredText(node, "conversation_id", tenant);
        checkId("conversation_id", conversation, tenant);
        String sender = requiredText(node, "sender", tenant);
        if (!SENDERS.contains(sender)) {
            throw invalid(
                    "unknown_sender",
                    "sender '" + abbreviate(sender) + "' is not one of " + SENDERS,
                    tenant);
        }
        String message = requiredText(node, "message", tenant);
        if (message.isBlank()) {
            throw invalid("empty_message", "message is empty", tenant);
        }
        int bytes = message.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxMessageBytes) {
            throw invalid(
                    "message_too_large",
                    "message of " + bytes + " bytes exceeds the limit of " + maxMessageBytes,
                    tenant);
        }
        if (hasControlCharacters(message, true)) {
            throw invalid(
                    "control_characters",
                    "message contains control characters other than tab, CR and LF",
                    tenant);
        }
        Instant timestamp = timestamp(node, record, now, tenant);
        String channel = optionalText(node, "channel", tenant);
        String messageId = optionalText(node, "message_id", tenant);
        if (messageId == null) {
            JsonNode ts = node.get("timestamp");
            String when =
                    ts == null || ts.isNull() ? "kafka:" + record.kafkaTimestamp() : ts.asText();
            messageId = deriveMessageId(tenant, conversation, when, sender, message);
        } else {
            checkId("message_id", messageId, tenant);
        }
        return new ChatMessage(
                messageId,
                tenant,
                conversation,
                sender,
                message,
                channel == null || channel.isBlank() ? "unknown" : channel,
                timestamp,
                metadata(node, tenant),
                record.source());
    }

    private Instant timestamp(JsonNode node, RawRecord record, Instant now, String tenant)
            throws MessageValidationException {
        JsonNode ts = node.get("timestamp");
        if (ts == null || ts.isNull()) {
            return Instant.ofEpochMilli(
                    record.kafkaTimestamp() > 0 ? record.kafkaTimestamp() : now.toEpochMilli());
        }
        if (!ts.isTextual()) {
            throw invalid("wrong_type", "timestamp must be an ISO-8601 string", tenant);
        }
        Instant parsed;
        try {
            parsed = OffsetDateTime.parse(ts.asText()).toInstant();
        } catch (DateTimeParseException e) {
            throw invalid(
                    "invalid_timestamp",
                    "timestamp '" + abbreviate(ts.asText()) + "' is not ISO-8601 with an offset",
                    tenant);
        }
        if (parsed.isAfter(now.plus(maxFutureSkew))) {
            throw invalid(
                    "future_timestamp",
                    "timestamp " + parsed + " is more than " + maxFutureSkew + " in the future",
                    tenant);
        }
        return parsed;
    }

    private Map<String, String> metadata(JsonNode node, String tenant)
            throws MessageValidationException {
        JsonNode meta = node.get("metadata");
        Map<String, String> out = new TreeMap<>();
        if (meta == null || meta.isNull()) {
            return out;
        }
        if (!meta.isObject()) {
            throw invalid("wrong_type", "metadata must be a JSON object", tenant);
        }
        Iterator<Map.Entry<String, JsonNode>> it = meta.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            out.put(e.getKey(), v.isValueNode() ? v.asText() : v.toString());
        }
        return out;
    }

    private void checkId(String field, String id, String tenant) throws MessageValidationException {
        if (id.isBlank()) {
            throw invalid("invalid_id", field + " is empty", tenant);
        }
        if (id.length() > maxIdLength) {
            throw invalid(
                    "invalid_id",
                    field + " has " + id.length() + " characters, more than " + maxIdLength,
                    tenant);
        }
        if (hasControlCharacters(id, false)) {
            throw invalid("invalid_id", field + " contains control characters", tenant);
        }
    }

    private static String requiredText(JsonNode node, String field, String tenant)
            throws MessageValidationException {
        String v = optionalText(node, field, tenant);
        if (v == null) {
            throw invalid("missing_field", "required field '" + field + "' is missing", tenant);
        }
        return v;
    }

    private static String optionalText(JsonNode node, String field, String tenant)
            throws MessageValidationException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw invalid(
                    "wrong_type",
                    "field '" + field + "' must be a string, got " + v.getNodeType(),
                    tenant);
        }
        return v.asText();
    }

    private static String decodeUtf8(byte[] value) throws MessageValidationException {
        String text = strictUtf8(value);
        if (text == null) {
            throw invalid("invalid_utf8", "the record value is not valid UTF-8", null);
        }
        return text;
    }

    /**
     * Decodes bytes as UTF-8, rejecting malformed input instead of replacing it.
     *
     * @return the text, or {@code null} if the bytes are not valid UTF-8
     */
    public static String strictUtf8(byte[] value) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Whether the text holds C0/C1 control characters (tab, CR, LF allowed if {@code body}). */
    static boolean hasControlCharacters(String s, boolean body) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (body && (c == '\t' || c == '\n' || c == '\r')) {
                continue;
            }
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The id of a message that came without one: {@code "m-"} + the first 24 hex digits of the
     * SHA-256 of tenant, conversation, {@code when} (the timestamp text, or {@code "kafka:<record
     * timestamp>"}), sender and message.
     */
    static String deriveMessageId(
            String tenant, String conversation, String when, String sender, String message) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : new String[] {tenant, conversation, when, sender, message}) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return "m-" + HexFormat.of().formatHex(sha.digest()).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    private static MessageValidationException invalid(String type, String message, String tenant) {
        return new MessageValidationException(type, message, tenant);
    }
}

package io.signalstream.serde;

import io.signalstream.events.ChatMessage;
import io.signalstream.events.RawRecord;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.signalstream.serde.RecordValidation.abbreviate;
import static io.signalstream.serde.RecordValidation.checkId;
import static io.signalstream.serde.RecordValidation.decode;
import static io.signalstream.serde.RecordValidation.hasControlCharacters;
import static io.signalstream.serde.RecordValidation.invalid;
import static io.signalstream.serde.RecordValidation.optionalText;
import static io.signalstream.serde.RecordValidation.readJson;
import static io.signalstream.serde.RecordValidation.requireObject;
import static io.signalstream.serde.RecordValidation.requiredText;
import static io.signalstream.serde.RecordValidation.tenantId;
import static io.signalstream.serde.RecordValidation.timestamp;

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
        String text = decode(record.value(), 4L * maxMessageBytes);
        JsonNode node = readJson(text);
        requireObject(node);
        String tenant = tenantId(node, maxIdLength);
        String conversation = requiredText(node, "conversation_id", tenant);
        checkId("conversation_id", conversation, maxIdLength, tenant);
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
        Instant timestamp =
                timestamp(
                        node,
                        Instant.ofEpochMilli(
                                record.kafkaTimestamp() > 0
                                        ? record.kafkaTimestamp()
                                        : now.toEpochMilli()),
                        now,
                        maxFutureSkew,
                        tenant);
        String channel = optionalText(node, "channel", tenant);
        String messageId = optionalText(node, "message_id", tenant);
        if (messageId == null) {
            JsonNode ts = node.get("timestamp");
            String when =
                    ts == null || ts.isNull() ? "kafka:" + record.kafkaTimestamp() : ts.asText();
            messageId = deriveMessageId(tenant, conversation, when, sender, message);
        } else {
            checkId("message_id", messageId, maxIdLength, tenant);
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

    /**
     * Decodes bytes as UTF-8, rejecting malformed input instead of replacing it.
     *
     * @return the text, or {@code null} if the bytes are not valid UTF-8
     */
    public static String strictUtf8(byte[] value) {
        return RecordValidation.strictUtf8(value);
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
}

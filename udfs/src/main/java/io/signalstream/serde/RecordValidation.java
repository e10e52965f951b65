package io.signalstream.serde;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The validation rules that {@link ChatMessageParser} and {@link FeedbackParser} share: decoding a
 * raw record into a JSON object, reading text fields, ids (the tenant id included) and the optional
 * ISO-8601 {@code timestamp}. Each rule throws a {@link MessageValidationException} with the same
 * {@code error_type} and message in both parsers.
 */
final class RecordValidation {

    private RecordValidation() {}

    /**
     * Decodes a raw Kafka value as strict UTF-8.
     *
     * @param value the record value, may be {@code null}
     * @param maxBytes largest accepted value in bytes
     * @return the text
     * @throws MessageValidationException {@code null_value}, {@code oversized_record} or {@code
     *     invalid_utf8}
     */
    static String decode(byte[] value, long maxBytes) throws MessageValidationException {
        if (value == null) {
            throw invalid("null_value", "the Kafka record value is null", null);
        }
        if (value.length > maxBytes) {
            throw invalid(
                    "oversized_record",
                    "record of " + value.length + " bytes exceeds " + maxBytes,
                    null);
        }
        String text = strictUtf8(value);
        if (text == null) {
            throw invalid("invalid_utf8", "the record value is not valid UTF-8", null);
        }
        return text;
    }

    /**
     * Parses exactly one JSON value.
     *
     * @param text the decoded record
     * @return the value, or {@code null} for empty input (not an object: see {@link
     *     #requireObject})
     * @throws MessageValidationException {@code malformed_json}, also for trailing content
     */
    static JsonNode readJson(String text) throws MessageValidationException {
        try (JsonParser parser = Json.MAPPER.createParser(text)) {
            JsonNode node = Json.MAPPER.readTree(parser);
            if (node != null && parser.nextToken() != null) {
                throw invalid("malformed_json", "trailing content after the JSON value", null);
            }
            return node;
        } catch (JsonProcessingException e) {
            throw invalid("malformed_json", "not valid JSON: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            throw invalid("malformed_json", "not valid JSON: " + e.getMessage(), null);
        }
    }

    /**
     * @throws MessageValidationException {@code not_an_object} when {@code node} is null or not a
     *     JSON object
     */
    static void requireObject(JsonNode node) throws MessageValidationException {
        if (node == null || !node.isObject()) {
            throw invalid(
                    "not_an_object",
                    "expected a JSON object, got "
                            + (node == null ? "nothing" : node.getNodeType()),
                    null);
        }
    }

    /**
     * Reads the required {@code tenant_id}: a valid id without {@code ':'} (the key separator). A
     * rejection names the tenant when the field held non-blank text.
     *
     * @return the tenant id
     * @throws MessageValidationException {@code missing_field}, {@code wrong_type} or {@code
     *     invalid_id}
     */
    static String tenantId(JsonNode node, int maxIdLength) throws MessageValidationException {
        String tenant = optionalText(node, "tenant_id", null);
        String tenantForDlq = tenant != null && !tenant.isBlank() ? tenant : null;
        tenant = requiredText(node, "tenant_id", tenantForDlq);
        checkId("tenant_id", tenant, maxIdLength, tenantForDlq);
        if (tenant.indexOf(':') >= 0) {
            throw invalid("invalid_id", "tenant_id must not contain ':'", tenantForDlq);
        }
        return tenant;
    }

    /**
     * Checks an id: not blank, at most {@code maxIdLength} characters, no control characters.
     *
     * @throws MessageValidationException {@code invalid_id}
     */
    static void checkId(String field, String id, int maxIdLength, String tenant)
            throws MessageValidationException {
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

    /**
     * @return the text of a required string field
     * @throws MessageValidationException {@code missing_field} (absent or null) or {@code
     *     wrong_type}
     */
    static String requiredText(JsonNode node, String field, String tenant)
            throws MessageValidationException {
        String v = optionalText(node, field, tenant);
        if (v == null) {
            throw invalid("missing_field", "required field '" + field + "' is missing", tenant);
        }
        return v;
    }

    /**
     * @return the text of an optional string field, {@code null} when absent or null
     * @throws MessageValidationException {@code wrong_type} when present but not a string
     */
    static String optionalText(JsonNode node, String field, String tenant)
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

    /**
     * Reads the optional {@code timestamp}: ISO-8601 text with an offset, no later than {@code now
     * + maxFutureSkew}.
     *
     * @param defaultTime returned when the field is absent or null
     * @return the timestamp
     * @throws MessageValidationException {@code wrong_type}, {@code invalid_timestamp} or {@code
     *     future_timestamp}
     */
    static Instant timestamp(
            JsonNode node, Instant defaultTime, Instant now, Duration maxFutureSkew, String tenant)
            throws MessageValidationException {
        JsonNode ts = node.get("timestamp");
        if (ts == null || ts.isNull()) {
            return defaultTime;
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

    /**
     * Decodes bytes as UTF-8, rejecting malformed input instead of replacing it.
     *
     * @return the text, or {@code null} if the bytes are not valid UTF-8
     */
    static String strictUtf8(byte[] value) {
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

    /** The first 40 characters of {@code s}, with {@code "…"} when cut, for error messages. */
    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    /** A validation failure with its stable {@code error_type}. */
    static MessageValidationException invalid(String type, String message, String tenant) {
        return new MessageValidationException(type, message, tenant);
    }
}

package io.signalstream.serde;

import io.signalstream.events.Feedback;
import io.signalstream.events.RawRecord;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static io.signalstream.serde.RecordValidation.abbreviate;
import static io.signalstream.serde.RecordValidation.checkId;
import static io.signalstream.serde.RecordValidation.decode;
import static io.signalstream.serde.RecordValidation.invalid;
import static io.signalstream.serde.RecordValidation.optionalText;
import static io.signalstream.serde.RecordValidation.readJson;
import static io.signalstream.serde.RecordValidation.requireObject;
import static io.signalstream.serde.RecordValidation.requiredText;
import static io.signalstream.serde.RecordValidation.tenantId;
import static io.signalstream.serde.RecordValidation.timestamp;

/**
 * Parses and validates one feedback record of {@code support.feedback} (or the body of {@code POST
 * /v1/feedback}) into a {@link Feedback}.
 *
 * <p>Rules, each with the {@code error_type} written to the dead-letter queue (or the API's 400)
 * when broken: {@code null_value}; {@code oversized_record} (over 64 KiB); {@code invalid_utf8};
 * {@code malformed_json}; {@code not_an_object}; {@code missing_field} ({@code feedback_id}, {@code
 * tenant_id}, {@code conversation_id}, {@code version}, {@code agent}, {@code field}, {@code
 * expected} or {@code user_id} absent or null); {@code wrong_type}; {@code invalid_id} (empty,
 * longer than {@code maxIdLength}, control characters, {@code ':'} in the tenant id); {@code
 * invalid_version} (not an integer ≥ 1); {@code unknown_agent} (not one of the known agents, when
 * they are given); {@code invalid_field} (not a dotted path of letters, digits and {@code _});
 * {@code invalid_expected} (an object or array: {@code expected} must be a JSON scalar); {@code
 * comment_too_long} (over {@value #MAX_COMMENT_CHARS} characters); {@code invalid_timestamp},
 * {@code future_timestamp}.
 */
public final class FeedbackParser implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Largest accepted record in bytes. */
    public static final int MAX_RECORD_BYTES = 64 * 1024;

    /** Longest accepted comment in characters. */
    public static final int MAX_COMMENT_CHARS = 4000;

    private static final Pattern FIELD =
            Pattern.compile("[A-Za-z0-9_]{1,64}(\\.[A-Za-z0-9_]{1,64}){0,7}");

    private final TreeSet<String> agents;
    private final int maxIdLength;
    private final Duration maxFutureSkew;

    /**
     * @param agents the agents feedback may judge; {@code null} accepts any agent name
     * @param maxIdLength longest accepted id in characters
     * @param maxFutureSkew how far in the future a timestamp may be
     */
    public FeedbackParser(Collection<String> agents, int maxIdLength, Duration maxFutureSkew) {
        this.agents = agents == null ? null : new TreeSet<>(agents);
        this.maxIdLength = maxIdLength;
        this.maxFutureSkew = maxFutureSkew;
    }

    /** The agents feedback may judge, or {@code null} for any. */
    public Set<String> agents() {
        return agents;
    }

    /**
     * Parses and validates a record.
     *
     * @param record the raw Kafka record
     * @param now the processing time, for the future-timestamp rule and a missing timestamp
     * @return the validated feedback
     * @throws MessageValidationException with the reason when the record is not valid feedback
     */
    public Feedback parse(RawRecord record, Instant now) throws MessageValidationException {
        JsonNode node = readJson(decode(record.value(), MAX_RECORD_BYTES));
        long fallbackMs =
                record.kafkaTimestamp() > 0 ? record.kafkaTimestamp() : now.toEpochMilli();
        return parse(node, Instant.ofEpochMilli(fallbackMs), now, record.source());
    }

    /**
     * Validates a parsed JSON document (the API's request body).
     *
     * @param node the document
     * @param defaultTime the timestamp when the document has none
     * @param now the processing time, for the future-timestamp rule
     * @param source Kafka coordinates, or {@code null}
     * @return the validated feedback
     * @throws MessageValidationException with the reason when it is not valid feedback
     */
    public Feedback parse(
            JsonNode node,
            Instant defaultTime,
            Instant now,
            io.signalstream.events.SourceRef source)
            throws MessageValidationException {
        requireObject(node);
        String tenant = tenantId(node, maxIdLength);
        String feedbackId = requiredText(node, "feedback_id", tenant);
        checkId("feedback_id", feedbackId, maxIdLength, tenant);
        String conversation = requiredText(node, "conversation_id", tenant);
        checkId("conversation_id", conversation, maxIdLength, tenant);
        long version = version(node, tenant);
        String agent = requiredText(node, "agent", tenant);
        if (agents != null && !agents.contains(agent)) {
            throw invalid(
                    "unknown_agent",
                    "agent '" + abbreviate(agent) + "' is not one of " + List.copyOf(agents),
                    tenant);
        }
        checkId("agent", agent, maxIdLength, tenant);
        String field = requiredText(node, "field", tenant);
        if (!FIELD.matcher(field).matches()) {
            throw invalid(
                    "invalid_field",
                    "field '"
                            + abbreviate(field)
                            + "' is not a dotted path of letters, digits and '_' (e.g. label)",
                    tenant);
        }
        JsonNode expected = node.get("expected");
        if (expected == null || expected.isNull()) {
            throw invalid("missing_field", "required field 'expected' is missing", tenant);
        }
        if (!expected.isValueNode()) {
            throw invalid(
                    "invalid_expected",
                    "expected must be a JSON string, number or boolean, got "
                            + expected.getNodeType(),
                    tenant);
        }
        String userId = requiredText(node, "user_id", tenant);
        checkId("user_id", userId, maxIdLength, tenant);
        String comment = optionalText(node, "comment", tenant);
        if (comment != null && comment.length() > MAX_COMMENT_CHARS) {
            throw invalid(
                    "comment_too_long",
                    "comment of " + comment.length() + " characters exceeds " + MAX_COMMENT_CHARS,
                    tenant);
        }
        Instant timestamp = timestamp(node, defaultTime, now, maxFutureSkew, tenant);
        return new Feedback(
                feedbackId,
                tenant,
                conversation,
                version,
                agent,
                field,
                expected.toString(),
                userId,
                comment,
                timestamp,
                source);
    }

    private static long version(JsonNode node, String tenant) throws MessageValidationException {
        JsonNode v = node.get("version");
        if (v == null || v.isNull()) {
            throw invalid("missing_field", "required field 'version' is missing", tenant);
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 1) {
            throw invalid(
                    "invalid_version",
                    "version must be an integer ≥ 1, got " + abbreviate(v.toString()),
                    tenant);
        }
        return v.asLong();
    }
}

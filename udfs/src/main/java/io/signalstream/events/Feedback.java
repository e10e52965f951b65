package io.signalstream.events;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.time.Instant;

/**
 * A human correction of one agent answer, read from {@code support.feedback} (or posted to {@code
 * POST /v1/feedback}): "the {@code field} of {@code agent}'s result for {@code version} of this
 * conversation should be {@code expected}", e.g. {@code agent=sentiment, field=label,
 * expected="negative"}.
 *
 * @param feedbackId the sender's id of this correction; a re-sent copy with the same id counts once
 * @param tenantId tenant id
 * @param conversationId conversation id
 * @param version the conversation version whose agent result is judged (1 = first message)
 * @param agent the agent whose result is judged, e.g. {@code sentiment}
 * @param field a dotted path into the agent's {@code result}, e.g. {@code label} or {@code
 *     entities.0.type}
 * @param expected the value the field should have: the JSON text of a scalar (string, number or
 *     boolean), written as that JSON value
 * @param userId who corrected it
 * @param comment free text, may be {@code null}
 * @param timestamp when the correction was made (UTC); the Kafka record time if the record has none
 * @param source Kafka coordinates of the feedback record ({@code null} when posted to the API and
 *     not yet produced)
 */
public record Feedback(
        String feedbackId,
        String tenantId,
        String conversationId,
        long version,
        String agent,
        String field,
        @JsonRawValue @JsonDeserialize(using = RawJson.class) String expected,
        String userId,
        String comment,
        Instant timestamp,
        SourceRef source) {

    /** {@code tenant_id:conversation_id}, the key of the feedback join. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }
}

package io.signalstream.events;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.time.Instant;

/**
 * A human correction joined with the agent answer it judges, published on {@code
 * support.learning-signals}: a labelled example for the next prompt or model, and one sample of the
 * live accuracy of (agent, provider, model, prompt version).
 *
 * @param signalId deterministic id: a name-based UUID of tenant, conversation and {@code
 *     feedback_id}, so a replay yields the same id
 * @param tenantId tenant id
 * @param conversationId conversation id
 * @param version the judged conversation version
 * @param agent the judged agent
 * @param field the dotted path into the agent's result
 * @param predicted what the agent answered at {@code field}: JSON text of the value
 * @param expected what the human says it should be: JSON text of a scalar
 * @param agreed whether {@code predicted} equals {@code expected} (numbers by value, strings
 *     ignoring case and surrounding blanks)
 * @param provider provider of the judged answer, e.g. {@code local}
 * @param model model of the judged answer
 * @param promptVersion prompt (or analyzer) version of the judged answer
 * @param promptHash prompt hash of the judged answer
 * @param feedbackId the correction's id
 * @param userId who corrected it
 * @param timestamp when the correction was made (UTC)
 */
public record LearningSignal(
        String signalId,
        String tenantId,
        String conversationId,
        long version,
        String agent,
        String field,
        @JsonRawValue @JsonDeserialize(using = RawJson.class) String predicted,
        @JsonRawValue @JsonDeserialize(using = RawJson.class) String expected,
        boolean agreed,
        String provider,
        String model,
        String promptVersion,
        String promptHash,
        String feedbackId,
        String userId,
        Instant timestamp) {

    /** {@code tenant_id:conversation_id}, the Kafka key. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }
}

package io.signalstream.events;

import org.apache.flink.api.common.typeinfo.TypeInfo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer of one agent for one conversation version, published on {@code support.ai.<agent>}.
 *
 * <p>{@code result} holds the agent's answer, whose fields depend on the agent:
 *
 * <ul>
 *   <li>sentiment: {@code label} (positive/neutral/negative), {@code score} [-1,1], {@code
 *       confidence} [0,1], {@code emotion}, {@code reasoning}
 *   <li>pii: {@code has_pii}, {@code entities[{type, start, end, score}]} (the {@code local}
 *       provider also writes each score as {@code confidence}: calibrated precision for PERSON,
 *       STREET_ADDRESS and GPE), {@code redacted_text}
 *   <li>insights: {@code intent}, {@code urgency} (low/medium/high/critical), {@code
 *       suggested_actions[]}, {@code requires_escalation}, {@code topics[]}
 *   <li>summary: {@code summary}, {@code key_points[]}, {@code resolution_status}
 * </ul>
 *
 * @param tenantId tenant id
 * @param conversationId conversation id
 * @param version the conversation version the agent analysed
 * @param messageId id of the message that produced that version
 * @param agent {@code pii | sentiment | insights | summary}
 * @param status one of the {@link AgentStatus} values
 * @param provider provider name, e.g. {@code local}
 * @param model model name, e.g. {@code vader-lexicon-v1}
 * @param promptVersion version of the prompt template (or analyzer) used
 * @param promptHash SHA-256 (hex, first 16 chars) of the prompt or analyzer input
 * @param latencyMs wall-clock time of the call in milliseconds
 * @param attempts number of attempts made (1 = first try succeeded)
 * @param usage token usage
 * @param result the agent's answer (JSON object); empty when failed or timed out
 * @param error why the status is not {@code ok}; {@code null} when ok
 */
public record AgentResult(
        String tenantId,
        String conversationId,
        long version,
        String messageId,
        String agent,
        String status,
        String provider,
        String model,
        String promptVersion,
        String promptHash,
        long latencyMs,
        int attempts,
        Usage usage,
        @TypeInfo(ObjectMapTypeInfo.Factory.class) Map<String, Object> result,
        String error) {

    public AgentResult {
        result = result == null ? new LinkedHashMap<>() : new LinkedHashMap<>(result);
        usage = usage == null ? Usage.NONE : usage;
    }

    /** A copy of this result with {@code attempts} set. */
    public AgentResult withAttempts(int attempts) {
        return new AgentResult(
                tenantId,
                conversationId,
                version,
                messageId,
                agent,
                status,
                provider,
                model,
                promptVersion,
                promptHash,
                latencyMs,
                attempts,
                usage,
                result,
                error);
    }

    /** {@code tenant_id:conversation_id}. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }

    /** Whether a usable answer is present ({@code ok} or {@code fallback}). */
    public boolean hasAnswer() {
        return AgentStatus.OK.equals(status) || AgentStatus.FALLBACK.equals(status);
    }
}

package io.signalstream.events;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A real-time alert on a conversation, published on {@code support.alerts} with key {@code
 * tenant_id:conversation_id}, one record per alert.
 *
 * <p>JSON shape (snake_case): {@code alert_id, tenant_id, conversation_id, version, type, severity,
 * reason, evidence{message_ids[], versions[]}, created_at}.
 *
 * @param alertId deterministic id (a name-based UUID of tenant, conversation, its first activity,
 *     type and the version the episode started at): the same alert has the same id after a replay,
 *     and webhooks get it as their idempotency key
 * @param tenantId tenant id
 * @param conversationId conversation id
 * @param version the aggregated version the alert was raised on; a record of that version exists on
 *     {@code support.ai.aggregated}
 * @param type one of {@link #TYPES}
 * @param severity {@code info}, {@code warning} or {@code critical}
 * @param reason one human-readable sentence
 * @param evidence the messages and versions that raised it
 * @param createdAt when it was raised (processing time, UTC)
 */
public record Alert(
        String alertId,
        String tenantId,
        String conversationId,
        long version,
        String type,
        String severity,
        String reason,
        Evidence evidence,
        Instant createdAt) {

    /** The customer asked for (or the insights agent decided on) an escalation. */
    public static final String ESCALATION_REQUESTED = "escalation_requested";

    /** Consecutive negative customer messages, or a sharp drop of the sentiment score. */
    public static final String SENTIMENT_DETERIORATING = "sentiment_deteriorating";

    /** The insights agent rated the urgency {@code critical}. */
    public static final String CRITICAL_URGENCY = "critical_urgency";

    /** A customer message contained personal data: the agent should not echo it. */
    public static final String PII_SHARED = "pii_shared";

    /** A customer message waited longer than the SLA for an agent reply. */
    public static final String REPLY_OVERDUE = "reply_overdue";

    /** Every alert type. */
    public static final List<String> TYPES =
            List.of(
                    ESCALATION_REQUESTED,
                    SENTIMENT_DETERIORATING,
                    CRITICAL_URGENCY,
                    PII_SHARED,
                    REPLY_OVERDUE);

    /** Severity of an alert worth a look. */
    public static final String INFO = "info";

    /** Severity of an alert that needs attention soon. */
    public static final String WARNING = "warning";

    /** Severity of an alert that needs attention now. */
    public static final String CRITICAL = "critical";

    /**
     * What raised an alert.
     *
     * @param messageIds ids of the messages, oldest first
     * @param versions their conversation versions, in the same order
     */
    public record Evidence(List<String> messageIds, List<Long> versions) {
        public Evidence {
            messageIds = messageIds == null ? new ArrayList<>() : new ArrayList<>(messageIds);
            versions = versions == null ? new ArrayList<>() : new ArrayList<>(versions);
        }
    }

    /** {@code tenant_id:conversation_id}. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }

    /**
     * The deterministic id of an alert episode.
     *
     * @param conversationKey {@code tenant_id:conversation_id}
     * @param firstActivity the conversation's first activity (tells a conversation that started
     *     again after its state expired from the old one); may be null
     * @param type alert type
     * @param episodeVersion the version the episode started at
     */
    public static String idOf(
            String conversationKey, Instant firstActivity, String type, long episodeVersion) {
        String name =
                conversationKey
                        + '\u0000'
                        + firstActivity
                        + '\u0000'
                        + type
                        + '\u0000'
                        + episodeVersion;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}

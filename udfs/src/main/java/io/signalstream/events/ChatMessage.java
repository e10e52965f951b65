package io.signalstream.events;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * A validated chat message from {@code support.messages.raw}.
 *
 * <p>JSON shape (snake_case): {@code message_id, conversation_id, tenant_id, sender, message,
 * channel, timestamp, metadata{}}. {@code sender} is one of {@code customer | agent | system};
 * {@code timestamp} is ISO-8601 UTC. {@link #source()} is not part of the input JSON: it is the
 * Kafka coordinates the message was read from.
 *
 * @param messageId unique id of the message within its conversation (derived if the input had none)
 * @param tenantId the tenant (company) the conversation belongs to
 * @param conversationId the conversation id, unique within a tenant
 * @param sender {@code customer}, {@code agent} or {@code system}
 * @param message the message body
 * @param channel the channel it was sent on (e.g. {@code twitter}, {@code chat}); {@code unknown}
 *     if absent
 * @param timestamp when the message was sent; the Kafka record time when the input had none
 * @param metadata free-form string metadata
 * @param source Kafka coordinates of the input record
 */
public record ChatMessage(
        String messageId,
        String tenantId,
        String conversationId,
        String sender,
        String message,
        String channel,
        Instant timestamp,
        Map<String, String> metadata,
        SourceRef source) {

    /** Sender value of a customer's message. */
    public static final String CUSTOMER = "customer";

    public ChatMessage {
        metadata = metadata == null ? new TreeMap<>() : new TreeMap<>(metadata);
    }

    /** The key the job partitions by: {@code tenant_id + ":" + conversation_id}. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }

    /** Whether the customer wrote this message. */
    public boolean fromCustomer() {
        return CUSTOMER.equals(sender);
    }
}

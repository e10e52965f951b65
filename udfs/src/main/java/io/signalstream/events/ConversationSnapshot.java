package io.signalstream.events;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of a conversation after its {@code version}-th accepted message, published on {@code
 * support.conversations.state}. It is also the join anchor of the aggregator: {@link
 * #scheduledAgents()} says which agent results to expect for this version.
 *
 * @param tenantId tenant id
 * @param conversationId conversation id
 * @param version 1-based position of the message in the conversation (re-deliveries excluded)
 * @param messageCount accepted messages so far (equals {@code version})
 * @param lastMessage the message that produced this version
 * @param recentMessages the last N messages, oldest first, including {@code lastMessage}
 * @param firstActivity timestamp of the first message
 * @param lastActivity timestamp of the latest message
 * @param scheduledAgents the agents triggered by this message, e.g. {@code [pii, sentiment]}
 * @param source Kafka coordinates of the input record of {@code lastMessage}
 */
public record ConversationSnapshot(
        String tenantId,
        String conversationId,
        long version,
        long messageCount,
        TranscriptEntry lastMessage,
        List<TranscriptEntry> recentMessages,
        Instant firstActivity,
        Instant lastActivity,
        List<String> scheduledAgents,
        SourceRef source) {

    public ConversationSnapshot {
        recentMessages =
                recentMessages == null ? new ArrayList<>() : new ArrayList<>(recentMessages);
        scheduledAgents =
                scheduledAgents == null ? new ArrayList<>() : new ArrayList<>(scheduledAgents);
    }

    /** {@code tenant_id:conversation_id}. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }
}

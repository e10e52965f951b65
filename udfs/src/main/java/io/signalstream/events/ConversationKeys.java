package io.signalstream.events;

/** The key every per-conversation operator and every output topic uses. */
public final class ConversationKeys {

    private ConversationKeys() {}

    /**
     * Returns {@code tenantId + ":" + conversationId}, the Kafka key of every per-conversation
     * topic and the key of the job's keyed state.
     */
    public static String of(String tenantId, String conversationId) {
        return tenantId + ":" + conversationId;
    }
}

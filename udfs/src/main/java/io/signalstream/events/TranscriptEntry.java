package io.signalstream.events;

import java.time.Instant;

/**
 * One message of a conversation's transcript window, as kept in keyed state and sent to the agents.
 *
 * @param messageId the message id
 * @param sender {@code customer}, {@code agent} or {@code system}
 * @param message the message body
 * @param timestamp when it was sent (UTC)
 */
public record TranscriptEntry(String messageId, String sender, String message, Instant timestamp) {

    /** Builds the transcript entry of a chat message. */
    public static TranscriptEntry of(ChatMessage m) {
        return new TranscriptEntry(m.messageId(), m.sender(), m.message(), m.timestamp());
    }
}

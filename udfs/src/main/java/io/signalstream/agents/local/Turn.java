package io.signalstream.agents.local;

import java.util.Objects;

/**
 * One message of a conversation transcript.
 *
 * @param sender {@link #CUSTOMER}, {@link #AGENT} or {@link #SYSTEM} (compared case-insensitively
 *     by the analyzers)
 * @param text the message text as sent
 */
public record Turn(String sender, String text) {

    /** Sender of customer messages. */
    public static final String CUSTOMER = "customer";

    /** Sender of agent messages. */
    public static final String AGENT = "agent";

    /** Sender of system messages (ignored by the summarizer). */
    public static final String SYSTEM = "system";

    /**
     * Validates the components.
     *
     * @throws NullPointerException if sender or text is null
     */
    public Turn {
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(text, "text");
    }

    /** Returns true if the sender is the customer. */
    public boolean isCustomer() {
        return CUSTOMER.equalsIgnoreCase(sender);
    }

    /** Returns true if the sender is an agent. */
    public boolean isAgent() {
        return AGENT.equalsIgnoreCase(sender);
    }
}

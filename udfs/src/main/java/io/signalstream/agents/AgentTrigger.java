package io.signalstream.agents;

import io.signalstream.events.ChatMessage;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * When an agent runs for a new message.
 *
 * <ul>
 *   <li>{@code every-message}: every accepted message.
 *   <li>{@code customer-messages}: messages whose sender is {@code customer}; agent and system
 *       messages still update the transcript.
 *   <li>{@code debounced}: the first message of a conversation, then once {@code everyN} messages
 *       arrived since the agent last ran, or when a message follows a pause of at least {@code
 *       idleGap} (event time), so a resumed conversation is summarised again. The decision is made
 *       when the message arrives, from keyed state only, so replays after a failure schedule the
 *       same agents.
 * </ul>
 *
 * @param mode the trigger mode
 * @param everyN debounced: messages between runs (at least 1)
 * @param idleGap debounced: pause that makes the next message run the agent
 */
public record AgentTrigger(Mode mode, int everyN, Duration idleGap) implements Serializable {

    /** Trigger modes. */
    public enum Mode {
        EVERY_MESSAGE,
        CUSTOMER_MESSAGES,
        DEBOUNCED
    }

    public AgentTrigger {
        if (everyN < 1) {
            throw new IllegalArgumentException("debounce every-n must be >= 1, got " + everyN);
        }
    }

    /**
     * Parses a trigger name.
     *
     * @param name {@code every-message}, {@code customer-messages} or {@code debounced}
     * @throws IllegalArgumentException for any other name
     */
    public static AgentTrigger parse(String name, int everyN, Duration idleGap) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        Mode mode =
                switch (n) {
                    case "every-message" -> Mode.EVERY_MESSAGE;
                    case "customer-messages" -> Mode.CUSTOMER_MESSAGES;
                    case "debounced" -> Mode.DEBOUNCED;
                    default ->
                            throw new IllegalArgumentException(
                                    "unknown agent trigger '"
                                            + name
                                            + "': use every-message, customer-messages or"
                                            + " debounced");
                };
        return new AgentTrigger(mode, everyN, idleGap);
    }

    /**
     * Decides whether the agent runs for this message.
     *
     * @param message the new message
     * @param version its version (1-based position in the conversation)
     * @param lastRunVersion the version the agent last ran for, 0 if never
     * @param previousActivity timestamp of the previous message, null for the first message
     * @return true if the agent is scheduled for this version
     */
    public boolean fires(
            ChatMessage message, long version, long lastRunVersion, Instant previousActivity) {
        return switch (mode) {
            case EVERY_MESSAGE -> true;
            case CUSTOMER_MESSAGES -> message.fromCustomer();
            case DEBOUNCED ->
                    lastRunVersion == 0
                            || version - lastRunVersion >= everyN
                            || (previousActivity != null
                                    && Duration.between(previousActivity, message.timestamp())
                                                    .compareTo(idleGap)
                                            >= 0);
        };
    }
}

package io.signalstream.agents;

import java.util.Locale;

/**
 * What an agent sees of the conversation when it is asked.
 *
 * <ul>
 *   <li>{@code latest-message}: the message that triggered it (pii, sentiment).
 *   <li>{@code window}: the last {@link AgentSpec#windowTurns()} messages (insights).
 *   <li>{@code rolling-summary}: the agent's previous answer's {@code summary} plus the messages
 *       since that answer's version (summary), so the cost of a long conversation grows linearly,
 *       not with the square of its length. Without a previous answer (the first run, or after the
 *       conversation's state expired) it sees the window.
 * </ul>
 */
public enum AgentContext {
    LATEST_MESSAGE,
    WINDOW,
    ROLLING_SUMMARY;

    /**
     * Parses an option value.
     *
     * @param value {@code latest-message}, {@code window} or {@code rolling-summary}
     * @throws IllegalArgumentException for any other value
     */
    public static AgentContext parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "latest-message" -> LATEST_MESSAGE;
            case "window" -> WINDOW;
            case "rolling-summary" -> ROLLING_SUMMARY;
            default ->
                    throw new IllegalArgumentException(
                            "unknown agent context '"
                                    + value
                                    + "': use latest-message, window or rolling-summary");
        };
    }

    /** The context of a built-in agent; {@code window} for any other. */
    public static AgentContext defaultFor(String agent) {
        return switch (agent) {
            case "pii", "sentiment" -> LATEST_MESSAGE;
            case "summary" -> ROLLING_SUMMARY;
            default -> WINDOW;
        };
    }

    /** The option value, e.g. {@code latest-message}. */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}

package io.signalstream.agents;

import java.util.Locale;

/**
 * Who answers first.
 *
 * <ul>
 *   <li>{@code always}: the agent's provider, every time.
 *   <li>{@code when-uncertain}: the {@code local} analyzer first; its answer is kept when its
 *       {@code confidence} is at or above the agent's threshold, otherwise the provider is asked.
 *       The result's {@code provider} says who answered. Only for built-in agents whose local
 *       answer has a {@code confidence} (sentiment, insights: its intent's).
 * </ul>
 */
public enum Escalation {
    ALWAYS,
    WHEN_UNCERTAIN;

    /**
     * Parses an option value.
     *
     * @throws IllegalArgumentException for a value other than {@code always} or {@code
     *     when-uncertain}
     */
    public static Escalation parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "always" -> ALWAYS;
            case "when-uncertain" -> WHEN_UNCERTAIN;
            default ->
                    throw new IllegalArgumentException(
                            "unknown escalate value '" + value + "': use always or when-uncertain");
        };
    }
}

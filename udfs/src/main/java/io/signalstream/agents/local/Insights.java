package io.signalstream.agents.local;

import java.util.List;
import java.util.Objects;

/**
 * Rule-based conversation insights for the latest customer message.
 *
 * @param intent one intent name of {@link InsightsRules} (e.g. {@code refund_request})
 * @param urgency {@code low}, {@code medium}, {@code high} or {@code critical}
 * @param suggestedActions short imperative next steps for the agent, most specific first
 * @param requiresEscalation true when the urgency is critical or a legal, fraud, safety or
 *     manager-request signal was found
 * @param topics matched topic categories (e.g. {@code billing}, {@code app}) in rule order
 */
public record Insights(
        String intent,
        String urgency,
        List<String> suggestedActions,
        boolean requiresEscalation,
        List<String> topics) {

    /**
     * Validates and defensively copies the lists.
     *
     * @throws NullPointerException if any component is null
     */
    public Insights {
        Objects.requireNonNull(intent, "intent");
        Objects.requireNonNull(urgency, "urgency");
        suggestedActions = List.copyOf(suggestedActions);
        topics = List.copyOf(topics);
    }
}

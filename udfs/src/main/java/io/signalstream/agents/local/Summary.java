package io.signalstream.agents.local;

import java.util.List;
import java.util.Objects;

/**
 * Extractive conversation summary.
 *
 * @param summary 1-3 extracted sentences in conversation order, each prefixed with its speaker
 *     ("Customer: ", "Agent: "), at most {@link ExtractiveSummarizer#MAX_SUMMARY_CHARS} chars;
 *     empty for a transcript without text
 * @param keyPoints up to 3 short sentences (problem, agent response, latest state)
 * @param resolutionStatus {@code resolved}, {@code pending} or {@code unresolved}
 */
public record Summary(String summary, List<String> keyPoints, String resolutionStatus) {

    /**
     * Validates and defensively copies.
     *
     * @throws NullPointerException if any component is null
     */
    public Summary {
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(resolutionStatus, "resolutionStatus");
        keyPoints = List.copyOf(keyPoints);
    }
}

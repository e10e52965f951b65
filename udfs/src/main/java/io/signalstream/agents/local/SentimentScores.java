package io.signalstream.agents.local;

/**
 * VADER sentiment scores of one text.
 *
 * @param negative proportion of the text's sentiment-bearing weight that is negative, in [0, 1]
 * @param neutral proportion that is neutral, in [0, 1]
 * @param positive proportion that is positive, in [0, 1]; the three proportions sum to 1 (up to
 *     rounding) or are all 0 for a text without tokens
 * @param compound normalised, weighted composite score in [-1, 1]
 */
public record SentimentScores(double negative, double neutral, double positive, double compound) {

    /** Scores of a text without tokens. */
    public static final SentimentScores EMPTY = new SentimentScores(0.0, 0.0, 0.0, 0.0);

    /** Returns {@link VaderSentimentAnalyzer#label(double)} of the compound score. */
    public String label() {
        return VaderSentimentAnalyzer.label(compound);
    }
}

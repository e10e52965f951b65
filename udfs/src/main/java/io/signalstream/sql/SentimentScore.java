package io.signalstream.sql;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code SENTIMENT_SCORE(text) -> DOUBLE}: the VADER compound score of the text, in [-1, 1] (0 for
 * a text without tokens). NULL in, NULL out.
 *
 * <pre>{@code
 * CREATE FUNCTION SENTIMENT_SCORE AS 'io.signalstream.sql.SentimentScore' LANGUAGE JAVA;
 * }</pre>
 */
public final class SentimentScore extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /**
     * Scores one text.
     *
     * @param text any text, or null
     * @return the compound score, or null when {@code text} is null
     */
    public Double eval(String text) {
        return text == null ? null : LocalAnalyzers.vader().analyze(text).compound();
    }
}

package io.signalstream.sql;

import io.signalstream.agents.local.VaderSentimentAnalyzer;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code SENTIMENT_LABEL(text) -> STRING}: {@code positive}, {@code neutral} or {@code negative},
 * from the VADER compound score of the text with the thresholds of the job's {@code sentiment}
 * agent (&gt;= 0.05 positive, &lt;= -0.05 negative). NULL in, NULL out.
 *
 * <pre>{@code
 * CREATE FUNCTION SENTIMENT_LABEL AS 'io.signalstream.sql.SentimentLabel' LANGUAGE JAVA;
 * }</pre>
 */
public final class SentimentLabel extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /**
     * Labels one text.
     *
     * @param text any text, or null
     * @return the label, or null when {@code text} is null
     */
    public String eval(String text) {
        return text == null
                ? null
                : VaderSentimentAnalyzer.label(LocalAnalyzers.vader().analyze(text).compound());
    }
}

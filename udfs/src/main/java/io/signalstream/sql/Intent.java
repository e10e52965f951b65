package io.signalstream.sql;

import org.apache.flink.table.functions.ScalarFunction;

import java.util.List;

/**
 * {@code INTENT(text) -> STRING}: the intent the job's keyword rules ({@code
 * rules/insights-rules.json}) give one customer message on its own, e.g. {@code refund_request},
 * {@code account_access}, {@code technical_issue}. NULL in, NULL out.
 *
 * <pre>{@code CREATE FUNCTION INTENT AS 'io.signalstream.sql.Intent' LANGUAGE JAVA;}</pre>
 */
public final class Intent extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /**
     * Classifies one text.
     *
     * @param text a customer message, or null
     * @return the intent name, or null when {@code text} is null
     */
    public String eval(String text) {
        if (text == null) {
            return null;
        }
        double compound = LocalAnalyzers.vader().analyze(text).compound();
        return LocalAnalyzers.insights().analyze(text, List.of(), compound).intent();
    }
}

package io.signalstream.sql;

import org.apache.flink.table.functions.ScalarFunction;

import java.util.List;

/**
 * {@code URGENCY(text) -> STRING}: {@code low}, {@code medium}, {@code high} or {@code critical},
 * as the job's keyword rules rate one customer message on its own (with its VADER score, as the
 * {@code insights} agent does). NULL in, NULL out.
 *
 * <pre>{@code CREATE FUNCTION URGENCY AS 'io.signalstream.sql.Urgency' LANGUAGE JAVA;}</pre>
 */
public final class Urgency extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /**
     * Rates one text.
     *
     * @param text a customer message, or null
     * @return the urgency level, or null when {@code text} is null
     */
    public String eval(String text) {
        if (text == null) {
            return null;
        }
        double compound = LocalAnalyzers.vader().analyze(text).compound();
        return LocalAnalyzers.insights().analyze(text, List.of(), compound).urgency();
    }
}

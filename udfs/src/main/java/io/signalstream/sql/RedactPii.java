package io.signalstream.sql;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code REDACT_PII(text) -> STRING}: the text with every PII finding of the local recognizers
 * replaced by a typed, numbered placeholder such as {@code <EMAIL_ADDRESS_1>}, exactly as the job's
 * {@code pii} agent writes {@code redacted_text}. NULL in, NULL out.
 *
 * <pre>{@code CREATE FUNCTION REDACT_PII AS 'io.signalstream.sql.RedactPii' LANGUAGE JAVA;}</pre>
 */
public final class RedactPii extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /**
     * Redacts one text.
     *
     * @param text any text, or null
     * @return the redacted text, or null when {@code text} is null
     */
    public String eval(String text) {
        return text == null ? null : LocalAnalyzers.pii().redact(text);
    }
}

package io.signalstream.sql;

import io.signalstream.agents.local.PiiEntity;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * {@code PII_TYPES(text) -> ARRAY<STRING>}: the distinct PII types the local recognizers find in
 * the text ({@code EMAIL_ADDRESS}, {@code CREDIT_CARD}, {@code IBAN_CODE}, {@code PHONE_NUMBER},
 * {@code US_SSN}, {@code IP_ADDRESS}), in order of first appearance; an empty array when there is
 * none. NULL in, NULL out.
 *
 * <pre>{@code CREATE FUNCTION PII_TYPES AS 'io.signalstream.sql.PiiTypes' LANGUAGE JAVA;}</pre>
 */
public final class PiiTypes extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /**
     * Lists the PII types of one text.
     *
     * @param text any text, or null
     * @return distinct types in order of first appearance, or null when {@code text} is null
     */
    public @DataTypeHint("ARRAY<STRING NOT NULL>") String[] eval(String text) {
        if (text == null) {
            return null;
        }
        Set<String> types = new LinkedHashSet<>();
        for (PiiEntity e : LocalAnalyzers.pii().detect(text)) {
            types.add(e.type());
        }
        return types.toArray(new String[0]);
    }
}

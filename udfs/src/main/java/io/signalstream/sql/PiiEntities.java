package io.signalstream.sql;

import io.signalstream.agents.local.PiiEntity;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * {@code PII_ENTITIES(text)}: a table function with one row per PII finding of the local
 * recognizers: {@code pii_type STRING, start_offset INT, end_offset INT, score DOUBLE} (offsets in
 * UTF-16 code units, end exclusive, as in the {@code pii} agent's {@code entities}). The matched
 * text itself is deliberately not returned. No rows for NULL or PII-free text.
 *
 * <pre>{@code
 * CREATE FUNCTION PII_ENTITIES AS 'io.signalstream.sql.PiiEntities' LANGUAGE JAVA;
 * SELECT m.message_id, e.pii_type FROM messages AS m, LATERAL TABLE(PII_ENTITIES(m.message)) AS e;
 * }</pre>
 */
@FunctionHint(
        output =
                @DataTypeHint(
                        "ROW<pii_type STRING, start_offset INT, end_offset INT, score DOUBLE>"))
public final class PiiEntities extends TableFunction<Row> {

    private static final long serialVersionUID = 1L;

    /**
     * Emits the findings of one text, ordered by start offset.
     *
     * @param text any text, or null
     */
    public void eval(String text) {
        if (text == null) {
            return;
        }
        for (PiiEntity e : LocalAnalyzers.pii().detect(text)) {
            collect(Row.of(e.type(), e.start(), e.end(), e.score()));
        }
    }
}

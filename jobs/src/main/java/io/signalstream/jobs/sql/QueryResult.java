package io.signalstream.jobs.sql;

import org.apache.flink.types.Row;

import java.util.List;

/**
 * The final rows of one statement that returns content (a query, {@code SHOW}, {@code EXPLAIN},
 * ...).
 *
 * @param statement the statement as run (variables substituted)
 * @param columns column names, in order
 * @param rows the rows, in the order the query gave them (all of kind INSERT: a changelog is
 *     applied before it gets here)
 */
public record QueryResult(String statement, List<String> columns, List<Row> rows) {

    /** Copies the lists. */
    public QueryResult {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /**
     * The index of a column.
     *
     * @throws IllegalArgumentException if there is no such column
     */
    public int column(String name) {
        int i = columns.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no column " + name + " in " + columns);
        }
        return i;
    }
}

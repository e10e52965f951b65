package io.signalstream.jobs.sql;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.config.TableConfigOptions;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.CloseableIterator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs SQL scripts (see {@link SqlScript}) on a Flink {@link TableEnvironment}.
 *
 * <p>Two modes:
 *
 * <ul>
 *   <li><b>bounded</b> (default): the Kafka tables read from the earliest offset up to the offsets
 *       that are the latest when the query starts ({@code scan.bounded.mode=latest-offset}), and
 *       the query runs in Flink's batch runtime mode, so every query ends with its final answer
 *       (windows, joins and {@code ORDER BY} on any column included).
 *   <li><b>unbounded</b>: the tables keep reading ({@code scan.bounded.mode=unbounded}), the query
 *       runs in streaming mode until it is cancelled, and its changes (a changelog) are handed on
 *       as they come.
 * </ul>
 *
 * <p>The session time zone is UTC, so window bounds and {@code TIMESTAMP_LTZ} values print as UTC.
 * The runner sets the variables {@code scan.bounded.mode} and {@code bootstrap.servers} (when
 * given) for the scripts; any other variable comes from the caller.
 */
public final class SqlRunner {

    /** Variable holding the Kafka bootstrap servers. */
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";

    /** Variable holding the Kafka tables' {@code scan.bounded.mode}. */
    public static final String SCAN_BOUNDED_MODE = "scan.bounded.mode";

    private final TableEnvironment tEnv;
    private final boolean bounded;
    private final Map<String, String> variables;

    /**
     * Creates a runner with its own table environment.
     *
     * @param bounded bounded (batch) or unbounded (streaming) mode, as described above
     * @param bootstrapServers Kafka bootstrap servers, or null to leave {@code
     *     ${bootstrap.servers}} to {@code variables}
     * @param variables script variables (copied); they win over the runner's own
     * @param flinkConf Flink options for the queries (parallelism, ...); may be empty
     */
    public SqlRunner(
            boolean bounded,
            String bootstrapServers,
            Map<String, String> variables,
            Configuration flinkConf) {
        this.bounded = bounded;
        this.variables = new LinkedHashMap<>();
        this.variables.put(SCAN_BOUNDED_MODE, bounded ? "latest-offset" : "unbounded");
        if (bootstrapServers != null) {
            this.variables.put(BOOTSTRAP_SERVERS, bootstrapServers);
        }
        this.variables.putAll(variables);
        Configuration conf = new Configuration(flinkConf);
        conf.set(TableConfigOptions.LOCAL_TIME_ZONE, "UTC");
        conf.set(
                ExecutionOptions.RUNTIME_MODE,
                bounded ? RuntimeExecutionMode.BATCH : RuntimeExecutionMode.STREAMING);
        EnvironmentSettings.Builder settings =
                EnvironmentSettings.newInstance().withConfiguration(conf);
        this.tEnv =
                TableEnvironment.create(
                        (bounded ? settings.inBatchMode() : settings.inStreamingMode()).build());
    }

    /** The table environment, e.g. to register more functions or tables. */
    public TableEnvironment tableEnvironment() {
        return tEnv;
    }

    /** Whether queries are bounded (batch mode). */
    public boolean bounded() {
        return bounded;
    }

    /**
     * The statements of a script with this runner's variables substituted.
     *
     * @throws IllegalArgumentException if a variable is missing
     */
    public List<String> statements(String script) {
        return SqlScript.parse(script, variables);
    }

    /**
     * Runs every statement of a script in order; results of statements that return content are
     * collected (bounded mode) and returned.
     *
     * @param script SQL text
     * @return one result per statement that returns content, in order
     * @throws IllegalArgumentException if a variable is missing
     * @throws Exception if Flink rejects or fails a statement (the message names the statement)
     */
    public List<QueryResult> run(String script) throws Exception {
        List<QueryResult> out = new ArrayList<>();
        for (String statement : statements(script)) {
            execute(statement, null).ifPresent(out::add);
        }
        return out;
    }

    /**
     * Runs one statement (no variables substituted, no {@code ;}).
     *
     * <p>In bounded mode the whole result is collected, a changelog applied, and returned. In
     * unbounded mode a query's changes go to {@code onChange} (with their {@link RowKind}) until
     * the query ends or the thread is interrupted, and nothing is returned.
     *
     * @param statement one SQL statement
     * @param onChange receives each change of an unbounded query; may be null in bounded mode
     * @return the result if the statement returns content and the mode is bounded
     * @throws Exception if Flink rejects or fails the statement
     */
    public Optional<QueryResult> execute(String statement, Consumer<QueryChange> onChange)
            throws Exception {
        TableResult result;
        try {
            result = tEnv.executeSql(statement);
        } catch (RuntimeException e) {
            throw new SqlStatementException(statement, e);
        }
        List<String> columns = result.getResolvedSchema().getColumnNames();
        if (result.getResultKind() != ResultKind.SUCCESS_WITH_CONTENT) {
            if (result.getJobClient().isPresent()) {
                result.await(); // an INSERT: wait for it
            }
            return Optional.empty();
        }
        boolean changes = !bounded && result.getJobClient().isPresent() && onChange != null;
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = result.collect()) {
            while (it.hasNext()) {
                Row row = it.next();
                if (changes) {
                    onChange.accept(new QueryChange(columns, row));
                } else {
                    apply(rows, row);
                }
            }
        } catch (RuntimeException e) {
            throw new SqlStatementException(statement, e);
        }
        return changes ? Optional.empty() : Optional.of(new QueryResult(statement, columns, rows));
    }

    /** Applies one changelog row to a materialized result. */
    private static void apply(List<Row> rows, Row change) {
        RowKind kind = change.getKind();
        Row row = Row.copy(change);
        row.setKind(RowKind.INSERT);
        if (kind == RowKind.UPDATE_BEFORE || kind == RowKind.DELETE) {
            rows.remove(row);
        } else {
            rows.add(row);
        }
    }

    /**
     * One change of an unbounded query.
     *
     * @param columns column names
     * @param row the row, with its {@link RowKind} ({@code +I}, {@code -U}, {@code +U}, {@code -D})
     */
    public record QueryChange(List<String> columns, Row row) {}

    /** A statement Flink rejected or failed, with the statement in the message. */
    public static final class SqlStatementException extends Exception {

        private static final long serialVersionUID = 1L;

        /**
         * @param statement the statement
         * @param cause Flink's exception
         */
        public SqlStatementException(String statement, Throwable cause) {
            super(rootMessage(cause) + "\nin statement:\n" + statement, cause);
        }

        private static String rootMessage(Throwable t) {
            StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage()));
            Throwable c = t.getCause();
            for (int i = 0; c != null && i < 5; i++, c = c.getCause()) {
                if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                    sb.append("\ncaused by: ").append(c.getMessage());
                }
            }
            return sb.toString();
        }
    }
}

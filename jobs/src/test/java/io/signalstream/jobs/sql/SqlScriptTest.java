package io.signalstream.jobs.sql;

import org.apache.flink.types.Row;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Statement splitting, variables and result printing of the SQL runner. */
class SqlScriptTest {

    @Test
    void splitsOnSemicolonAtLineEndAndDropsCommentLines() {
        String script =
                String.join(
                        "\n",
                        "-- a comment; with a semicolon;",
                        "CREATE TABLE t (a STRING) WITH ('x' = 'a;b');",
                        "  -- indented comment",
                        "SELECT a, ';' AS s",
                        "FROM t;   ",
                        "SELECT 1");
        assertThat(SqlScript.split(script))
                .containsExactly(
                        "CREATE TABLE t (a STRING) WITH ('x' = 'a;b')",
                        "SELECT a, ';' AS s\nFROM t",
                        "SELECT 1");
    }

    @Test
    void substitutesVariablesWithDefaultsAndRejectsMissingOnes() {
        assertThat(SqlScript.substitute("a=${x} b=${y:2} c=${z:}", Map.of("x", "1")))
                .isEqualTo("a=1 b=2 c=");
        assertThat(SqlScript.substitute("${y:2}", Map.of("y", "$3\\"))).isEqualTo("$3\\");
        assertThatThrownBy(() -> SqlScript.substitute("${bootstrap.servers}", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrap.servers");
        // variables in comments are not substituted, so they need no value
        assertThat(SqlScript.parse("-- uses ${nothing}\nSELECT ${v:1};", Map.of()))
                .containsExactly("SELECT 1");
    }

    @Test
    void everyScriptOfTheRepositorySplitsIntoCompleteStatements() throws Exception {
        Map<String, String> vars = Map.of("bootstrap.servers", "127.0.0.1:9092");
        List<String> tables =
                SqlScript.parse(Files.readString(Path.of("..", "sql", "tables.sql")), vars);
        assertThat(tables).hasSize(17).allMatch(s -> s.startsWith("CREATE ") && !s.contains("${"));
        assertThat(SqlScript.parse(Files.readString(Path.of("..", "sql", "functions.sql")), vars))
                .hasSize(7)
                .allMatch(s -> s.startsWith("CREATE FUNCTION IF NOT EXISTS "));
    }

    @Test
    void printsTableCsvAndJson() {
        QueryResult r =
                new QueryResult(
                        "q",
                        List.of("tenant", "n", "at", "tags"),
                        List.of(
                                Row.of(
                                        "acme, inc",
                                        3L,
                                        Instant.parse("2020-04-01T17:31:32Z"),
                                        new String[] {"a", "b"}),
                                Row.of("b\"c", null, null, new String[0])));
        assertThat(print(ResultFormat.TABLE, r))
                .isEqualTo(
                        String.join(
                                "\n",
                                "+-----------+------+----------------------+--------+",
                                "| tenant    | n    | at                   | tags   |",
                                "+-----------+------+----------------------+--------+",
                                "| acme, inc |    3 | 2020-04-01T17:31:32Z | [a, b] |",
                                "| b\"c       | NULL | NULL                 | []     |",
                                "+-----------+------+----------------------+--------+",
                                "2 rows",
                                ""));
        assertThat(print(ResultFormat.CSV, r))
                .isEqualTo(
                        String.join(
                                "\n",
                                "tenant,n,at,tags",
                                "\"acme, inc\",3,2020-04-01T17:31:32Z,\"[a, b]\"",
                                "\"b\"\"c\",,,[]",
                                ""));
        assertThat(print(ResultFormat.JSON, r))
                .isEqualTo(
                        String.join(
                                "\n",
                                "{\"tenant\":\"acme,"
                                    + " inc\",\"n\":3,\"at\":\"2020-04-01T17:31:32Z\",\"tags\":[\"a\",\"b\"]}",
                                "{\"tenant\":\"b\\\"c\",\"n\":null,\"at\":null,\"tags\":[]}",
                                ""));
    }

    @Test
    void anEmptyResultPrintsAnEmptyJsonArray() throws Exception {
        QueryResult empty = new QueryResult("SELECT a FROM t", List.of("a"), List.of());
        String json = print(ResultFormat.JSON, empty);
        assertThat(json).isEqualTo("[]\n");
        assertThat(io.signalstream.serde.Json.MAPPER.readTree(json).isArray()).isTrue();
        assertThat(io.signalstream.serde.Json.MAPPER.readTree(json)).isEmpty();
        assertThat(print(ResultFormat.CSV, empty)).isEqualTo("a\n");
        assertThat(print(ResultFormat.TABLE, empty)).endsWith("0 rows\n");
    }

    private static String print(ResultFormat f, QueryResult r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        f.print(r, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }
}

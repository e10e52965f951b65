package io.signalstream.sql;

import io.signalstream.jobs.sql.QueryResult;
import io.signalstream.jobs.sql.SqlRunner;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SQL functions as a user calls them: registered by {@code sql/functions.sql} with {@code
 * CREATE FUNCTION}, applied to literals and to a column of an inline table, on a MiniCluster.
 */
class SqlFunctionsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    private static SqlRunner runner;

    @BeforeAll
    static void registerFunctions() throws Exception {
        runner = new SqlRunner(true, null, Map.of(), new Configuration());
        runner.run(Files.readString(Path.of("..", "..", "sql", "functions.sql")));
    }

    @Test
    void functionsAreRegisteredByFunctionsSql() throws Exception {
        List<Object> names = column(one("SHOW USER FUNCTIONS"), 0);
        assertThat(names)
                .map(n -> n.toString().toUpperCase())
                .contains(
                        "REDACT_PII",
                        "PII_TYPES",
                        "PII_ENTITIES",
                        "SENTIMENT_LABEL",
                        "SENTIMENT_SCORE",
                        "INTENT",
                        "URGENCY");
    }

    @Test
    void redactPiiAndPiiTypesOnLiterals() throws Exception {
        Row row =
                one("SELECT REDACT_PII('mail me at a@b.com'), PII_TYPES('mail me at a@b.com or"
                        + " 10.0.0.1'), REDACT_PII(CAST(NULL AS STRING)), CARDINALITY(PII_TYPES('no"
                        + " pii here'))")
                        .rows()
                        .get(0);
        assertThat(row.getField(0)).isEqualTo("mail me at <EMAIL_ADDRESS_1>");
        assertThat((Object[]) row.getField(1)).containsExactly("EMAIL_ADDRESS", "IP_ADDRESS");
        assertThat(row.getField(2)).isNull();
        assertThat(row.getField(3)).isEqualTo(0);
    }

    @Test
    void functionsApplyToAnyTextColumn() throws Exception {
        QueryResult r =
                one(
                        "SELECT id, SENTIMENT_LABEL(txt) AS label, SENTIMENT_SCORE(txt) > 0 AS pos,"
                            + " REDACT_PII(txt) AS red FROM (VALUES (1, 'I love this, thank you so"
                            + " much!'), (2, 'Terrible service, I hate waiting, awful.'), (3, 'call"
                            + " me at jane@example.com')) AS t (id, txt) ORDER BY id");
        assertThat(column(r, 1)).containsExactly("positive", "negative", "neutral");
        assertThat(column(r, 2)).containsExactly(true, false, false);
        assertThat(column(r, 3))
                .containsExactly(
                        "I love this, thank you so much!",
                        "Terrible service, I hate waiting, awful.",
                        "call me at <EMAIL_ADDRESS_1>");
    }

    @Test
    void piiEntitiesAsALateralTable() throws Exception {
        String text = "write to a@b.com or c@d.org";
        QueryResult r =
                one(
                        "SELECT e.pii_type, e.start_offset, e.end_offset FROM (VALUES ('"
                                + text
                                + "')) AS t (txt),"
                                + " LATERAL TABLE(PII_ENTITIES(txt)) AS e ORDER BY e.start_offset");
        assertThat(r.rows()).hasSize(2);
        assertThat(column(r, 0)).containsExactly("EMAIL_ADDRESS", "EMAIL_ADDRESS");
        assertThat(column(r, 1)).containsExactly(text.indexOf("a@b.com"), text.indexOf("c@d.org"));
        assertThat(column(r, 2)).containsExactly(text.indexOf("a@b.com") + 7, text.length());
    }

    @Test
    void intentAndUrgencyInSql() throws Exception {
        Row row =
                one("SELECT INTENT('Please refund me, I want my money back'), URGENCY('My account"
                                + " was hacked and money was stolen, I will contact my lawyer')")
                        .rows()
                        .get(0);
        assertThat(row.getField(0)).isEqualTo("refund_request");
        assertThat(row.getField(1)).isEqualTo("critical");
    }

    private static QueryResult one(String sql) throws Exception {
        List<QueryResult> results = runner.run(sql);
        assertThat(results).hasSize(1);
        return results.get(0);
    }

    private static List<Object> column(QueryResult r, int i) {
        return r.rows().stream().map(row -> row.getField(i)).toList();
    }
}

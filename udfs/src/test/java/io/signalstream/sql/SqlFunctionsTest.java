package io.signalstream.sql;

import io.signalstream.agents.local.Insights;
import io.signalstream.agents.local.InsightsRules;
import io.signalstream.agents.local.VaderSentimentAnalyzer;

import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The SQL functions called directly, as the planner calls them. */
class SqlFunctionsTest {

    private static final String MAIL_AND_IP =
            "mail me at jane.doe@example.com or john@example.org, I am on 192.168.10.20 and"
                    + " jane.doe@example.com";

    @Test
    void redactPiiReplacesEachValueByANumberedPlaceholder() {
        assertThat(new RedactPii().eval("mail me at a@b.com"))
                .isEqualTo("mail me at <EMAIL_ADDRESS_1>");
        assertThat(new RedactPii().eval(MAIL_AND_IP))
                .isEqualTo(
                        "mail me at <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>, I am on <IP_ADDRESS_1>"
                                + " and <EMAIL_ADDRESS_1>");
    }

    @Test
    void redactPiiLeavesCleanTextAndNullAlone() {
        assertThat(new RedactPii().eval("my order 12 never arrived"))
                .isEqualTo("my order 12 never arrived");
        assertThat(new RedactPii().eval("")).isEmpty();
        assertThat(new RedactPii().eval(null)).isNull();
    }

    @Test
    void piiTypesAreDistinctInOrderOfFirstAppearance() {
        assertThat(new PiiTypes().eval(MAIL_AND_IP)).containsExactly("EMAIL_ADDRESS", "IP_ADDRESS");
        assertThat(new PiiTypes().eval("card 4111 1111 1111 1111, ssn 078-05-1120 (my SSN)"))
                .containsExactly("CREDIT_CARD", "US_SSN");
        assertThat(new PiiTypes().eval("nothing personal here")).isEmpty();
        assertThat(new PiiTypes().eval(null)).isNull();
    }

    @Test
    void piiEntitiesEmitsOneRowPerFindingWithOffsets() {
        List<Row> rows = entities(MAIL_AND_IP);
        assertThat(rows)
                .extracting(r -> r.getField(0))
                .containsExactly("EMAIL_ADDRESS", "EMAIL_ADDRESS", "IP_ADDRESS", "EMAIL_ADDRESS");
        for (Row r : rows) {
            String value = MAIL_AND_IP.substring((Integer) r.getField(1), (Integer) r.getField(2));
            assertThat(value).isIn("jane.doe@example.com", "john@example.org", "192.168.10.20");
            assertThat((Double) r.getField(3)).isBetween(0.0, 1.0);
        }
        assertThat(entities("no pii")).isEmpty();
        assertThat(entities(null)).isEmpty();
    }

    @Test
    void sentimentLabelAndScoreFollowVaderThresholds() {
        SentimentScore score = new SentimentScore();
        SentimentLabel label = new SentimentLabel();
        String happy = "Thank you so much, the new version is great and works perfectly!";
        String angry = "This is terrible, the app crashed again and I lost all my work. Awful.";
        assertThat(score.eval(happy)).isGreaterThanOrEqualTo(0.05);
        assertThat(label.eval(happy)).isEqualTo("positive");
        assertThat(score.eval(angry)).isLessThanOrEqualTo(-0.05);
        assertThat(label.eval(angry)).isEqualTo("negative");
        assertThat(score.eval("The parcel is at the depot.")).isEqualTo(0.0);
        assertThat(label.eval("The parcel is at the depot.")).isEqualTo("neutral");
        assertThat(score.eval(null)).isNull();
        assertThat(label.eval(null)).isNull();
    }

    @Test
    void intentAndUrgencyComeFromTheInsightsRules() {
        assertThat(new Intent().eval("Please refund me, I want my money back"))
                .isEqualTo("refund_request");
        InsightsRules rules = new InsightsRules();
        VaderSentimentAnalyzer vader = new VaderSentimentAnalyzer();
        for (String text :
                List.of(
                        "I cannot log in to my account, the password reset does not work",
                        "Where is my package? It was due last week",
                        "cancel my subscription now")) {
            Insights expected = rules.analyze(text, List.of(), vader.analyze(text).compound());
            assertThat(new Intent().eval(text)).as(text).isEqualTo(expected.intent());
            assertThat(new Urgency().eval(text)).as(text).isEqualTo(expected.urgency());
        }
        assertThat(
                        new Urgency()
                                .eval(
                                        "My account was hacked and money was stolen, I will contact"
                                                + " my lawyer"))
                .isEqualTo("critical");
        assertThat(new Urgency().eval("hi")).isIn("low", "medium");
        assertThat(new Intent().eval(null)).isNull();
        assertThat(new Urgency().eval(null)).isNull();
    }

    private static List<Row> entities(String text) {
        List<Row> out = new ArrayList<>();
        PiiEntities f = new PiiEntities();
        f.setCollector(
                new Collector<>() {
                    @Override
                    public void collect(Row record) {
                        out.add(record);
                    }

                    @Override
                    public void close() {}
                });
        f.eval(text);
        return out;
    }
}

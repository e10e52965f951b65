package io.signalstream.agents.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class VaderSentimentAnalyzerTest {

    private final VaderSentimentAnalyzer vader = new VaderSentimentAnalyzer();

    /** Examples and compound scores from the cjhutto/vaderSentiment README. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "VADER is smart, handsome, and funny.|0.8316",
                "VADER is smart, handsome, and funny!|0.8439",
                "VADER is very smart, handsome, and funny.|0.8545",
                "VADER is VERY SMART, handsome, and FUNNY.|0.9227",
                "VADER is VERY SMART, handsome, and FUNNY!!!|0.9342",
                "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!|0.9469",
                "VADER is not smart, handsome, nor funny.|-0.7424",
                "The book was good.|0.4404",
                "At least it isn't a horrible book.|0.431",
                "The book was only kind of good.|0.3832",
                "The plot was good, but the characters are uncompelling and the dialog is not"
                        + " great.|-0.7042",
                "Today SUX!|-0.5461",
                "Today only kinda sux! But I'll get by, lol|0.5249",
                "Make sure you :) or :D today!|0.8633",
                "Not bad at all|0.431"
            })
    void readmeExamples(String text, double compound) {
        assertThat(vader.analyze(text).compound()).isCloseTo(compound, within(0.005));
    }

    @Test
    void readmeProportions() {
        SentimentScores s = vader.analyze("VADER is smart, handsome, and funny.");
        assertThat(s.negative()).isZero();
        assertThat(s.neutral()).isCloseTo(0.254, within(0.005));
        assertThat(s.positive()).isCloseTo(0.746, within(0.005));
        SentimentScores n = vader.analyze("VADER is not smart, handsome, nor funny.");
        assertThat(n.negative()).isCloseTo(0.646, within(0.005));
        assertThat(n.positive()).isZero();
        assertThat(n.label()).isEqualTo("negative");
    }

    @Test
    void rulesChangeScoresInTheDocumentedDirection() {
        double plain = vader.analyze("The service was good").compound();
        assertThat(vader.analyze("The service was very good").compound()).isGreaterThan(plain);
        assertThat(vader.analyze("The service was slightly good").compound()).isLessThan(plain);
        assertThat(vader.analyze("The service was GOOD").compound()).isGreaterThan(plain);
        assertThat(vader.analyze("The service was good!!").compound()).isGreaterThan(plain);
        assertThat(vader.analyze("The service was not good").compound()).isNegative();
        assertThat(vader.analyze("The service was good but the food was bad").compound())
                .isNegative();
        assertThat(vader.analyze("the least good service").compound()).isNegative();
        assertThat(vader.analyze("Bad??? really bad???").compound())
                .isLessThan(vader.analyze("Bad really bad").compound());
    }

    @Test
    void emoticonsStayTokensAndAreInTheLexicon() {
        assertThat(VaderSentimentAnalyzer.tokenize("sad :( happy :) meh :-( ok :D well, fine!"))
                .containsExactly(
                        "sad", ":(", "happy", ":)", "meh", ":-(", "ok", ":D", "well", "fine");
        for (String emoticon : List.of(":(", ":)", ":-(", ":-)", ":D", "<3")) {
            assertThat(vader.inLexicon(emoticon)).as(emoticon).isTrue();
        }
        assertThat(vader.analyze("flight delayed again :(").compound()).isNegative();
        assertThat(vader.analyze("landed early :)").compound()).isPositive();
        assertThat(vader.analyze("landed early \uD83D\uDE0A").compound()).isPositive();
        assertThat(vader.analyze("landed late \uD83D\uDE20").compound()).isNegative();
    }

    @Test
    void labelThresholdsFromReadme() {
        assertThat(VaderSentimentAnalyzer.label(0.05)).isEqualTo("positive");
        assertThat(VaderSentimentAnalyzer.label(0.0499)).isEqualTo("neutral");
        assertThat(VaderSentimentAnalyzer.label(-0.0499)).isEqualTo("neutral");
        assertThat(VaderSentimentAnalyzer.label(-0.05)).isEqualTo("negative");
    }

    @Test
    void emptyAndNullInput() {
        assertThat(vader.analyze("   ")).isEqualTo(SentimentScores.EMPTY);
        assertThatThrownBy(() -> vader.analyze(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void missingLexiconIsAClearError() {
        assertThatThrownBy(() -> VaderSentimentAnalyzer.loadLexicon("/lexicon/nope.txt"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("nope.txt");
    }

    @Test
    void realCustomerMessages() {
        assertThat(vader.analyze(SharedData.message("W21FVhfjj3tBMRq04GiW", 0)).label())
                .isEqualTo("negative");
        assertThat(vader.analyze(SharedData.message("NFUDPkkooFvg5tf3xszV", 0)).label())
                .isEqualTo("negative");
        assertThat(vader.analyze(SharedData.message("ZzxAeHTHzciXBUGj7rix", 0)).compound())
                .isNegative();
        assertThat(vader.analyze(SharedData.message("CrPhgbfBj3QN4xp2LubT", 1)).compound())
                .isPositive();
    }

    /**
     * Airline tweets (Kaggle / CrowdFlower, read from shared/data at test time only): a few
     * labelled rows by id, and the polarity accuracy on all non-neutral tweets.
     */
    @Test
    void airlineTweets() {
        List<Map<String, String>> rows = SharedData.readCsv("sentiment/airline-tweets-public.csv");
        Map<String, Map<String, String>> byId =
                rows.stream()
                        .collect(Collectors.toMap(r -> r.get("tweet_id"), r -> r, (a, b) -> a));
        for (String id : Set.of("568913819881205761", "568104744025268224")) {
            assertThat(byId.get(id).get("airline_sentiment")).isEqualTo("negative");
            assertThat(vader.analyze(byId.get(id).get("text")).compound()).as(id).isNegative();
        }
        assertThat(byId.get("568784868257214464").get("airline_sentiment")).isEqualTo("positive");
        assertThat(vader.analyze(byId.get("568784868257214464").get("text")).label())
                .isEqualTo("positive");

        int agree = 0;
        int polar = 0;
        int exact = 0;
        for (Map<String, String> r : rows) {
            String gold = r.get("airline_sentiment");
            String label = vader.analyze(r.get("text")).label();
            exact += label.equals(gold) ? 1 : 0;
            if (!gold.equals("neutral") && !label.equals("neutral")) {
                polar++;
                agree += label.equals(gold) ? 1 : 0;
            }
        }
        double accuracy = (double) exact / rows.size();
        double polarity = (double) agree / polar;
        System.out.printf(
                "VADER airline tweets: 3-class accuracy %d/%d = %.3f; polarity "
                        + "agreement where both are non-neutral %d/%d = %.3f%n",
                exact, rows.size(), accuracy, agree, polar, polarity);
        assertThat(rows.size()).isGreaterThan(10_000);
        assertThat(accuracy).isGreaterThan(0.45);
        assertThat(polarity).isGreaterThan(0.58);
    }

    @Test
    void supportChatVariantIgnoresHandlesUrlsAndRequestMarkers() {
        VaderSentimentAnalyzer support = VaderSentimentAnalyzer.forSupportChat();
        // The reference reads the handle as the word "united" (+1.8) and "help" as +1.7, which
        // outweigh "wrong" (-2.1); without them the complaint reads as one.
        String plea = "@united my bag is at the wrong airport, please help";
        assertThat(vader.analyze(plea).label()).isEqualTo("positive");
        assertThat(support.analyze(plea).label()).isEqualTo("negative");
        assertThat(support.analyze("@united please help me change my seat").compound()).isZero();
        assertThat(support.analyze("@AskLove https://t.co/love where is my refund").compound())
                .isZero();
        // Real words keep their valence; an e-mail address is not a handle.
        assertThat(support.analyze("@united thanks, great crew").label()).isEqualTo("positive");
        assertThat(support.analyze("@united worst service ever, no help at all").label())
                .isEqualTo("negative");
        assertThat(support.analyze(".@united my bag is lost").compound())
                .isEqualTo(support.analyze("my bag is lost").compound());
        // Were "@example" taken for a handle, "great" would be left to score.
        assertThat(support.analyze("write to great@example.com").compound()).isZero();
        // The reference instance is unchanged by the variant.
        assertThat(vader.inLexicon("help")).isTrue();
        assertThat(support.inLexicon("help")).isFalse();
    }

    /** The support-chat variant against the reference on all labelled airline tweets. */
    @Test
    void supportChatVariantBeatsTheReferenceOnAirlineTweets() {
        List<Map<String, String>> rows = SharedData.readCsv("sentiment/airline-tweets-public.csv");
        VaderSentimentAnalyzer support = VaderSentimentAnalyzer.forSupportChat();
        int reference = 0;
        int adapted = 0;
        for (Map<String, String> r : rows) {
            String gold = r.get("airline_sentiment");
            reference += vader.analyze(r.get("text")).label().equals(gold) ? 1 : 0;
            adapted += support.analyze(r.get("text")).label().equals(gold) ? 1 : 0;
        }
        System.out.printf(
                "airline tweets 3-class accuracy: reference VADER %.3f, "
                        + "support-chat variant %.3f%n",
                (double) reference / rows.size(), (double) adapted / rows.size());
        assertThat(adapted).isGreaterThan(reference);
    }
}

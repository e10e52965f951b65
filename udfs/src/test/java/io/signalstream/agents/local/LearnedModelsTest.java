package io.signalstream.agents.local;

import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The learned local models: loading, clear cases, confidences, and the classifier's maths. */
class LearnedModelsTest {

    private static final VaderSentimentAnalyzer VADER = VaderSentimentAnalyzer.forSupportChat();

    private static LinearTextClassifier.Prediction sentiment(String text) {
        return LearnedModels.sentiment()
                .predict(LearnedModels.sentimentFeatures(text, VADER.analyze(text)));
    }

    @Test
    void modelsLoadWithTheirProvenance() {
        LinearTextClassifier s = LearnedModels.sentiment();
        assertThat(s.labels()).containsExactly("negative", "neutral", "positive");
        assertThat(s.featureCount()).isGreaterThan(1000);
        assertThat(s.temperature()).isPositive();
        assertThat(s.header().path("data").asText()).contains("vader-tweets-groundtruth.tsv");
        assertThat(s.header().path("held_out_split").asText()).contains("signalstream-heldout-v1");
        LinearTextClassifier i = LearnedModels.intent();
        assertThat(i.labels()).contains("refund_request", "cancel_order", "account_access");
        assertThat(i.header().path("data").asText()).contains("bitext").doesNotContain("airline");
        // Loaded once per JVM.
        assertThat(LearnedModels.sentiment()).isSameAs(s);
    }

    @Test
    void clearCasesAreClassifiedRight() {
        assertThat(
                        sentiment("Worst airline ever, rude staff and my bag is lost. Terrible!")
                                .label())
                .isEqualTo("negative");
        assertThat(sentiment("Thank you so much, the crew was amazing and friendly!").label())
                .isEqualTo("positive");
        LinearTextClassifier.Prediction p = sentiment("I hate this, awful service");
        assertThat(p.confidence()).isBetween(0.0, 1.0);
        assertThat(p.probabilities().values().stream().mapToDouble(Double::doubleValue).sum())
                .isCloseTo(1.0, within(1e-9));
        assertThat(p.confidence()).isEqualTo(p.probabilities().get(p.label()));
    }

    @Test
    void localAgentsCarryACalibratedConfidence() {
        Map<String, Object> s = LocalAgentProvider.sentiment("my flight was cancelled, horrible");
        assertThat(s.get("label")).isEqualTo("negative");
        assertThat((double) s.get("confidence")).isBetween(0.0, 1.0);
        assertThat((double) s.get("score")).isBetween(-1.0, 0.0);
        assertThat((String) s.get("reasoning")).startsWith("learned model: negative");

        Map<String, Object> i =
                LocalAgentProvider.insights(snapshot("I want a refund for my order"));
        assertThat(i.get("intent")).isEqualTo("refund_request");
        assertThat((double) i.get("confidence")).isBetween(0.5, 1.0);
        assertThat(i).containsKeys("urgency", "suggested_actions", "requires_escalation", "topics");
    }

    @Test
    void rulesIntentsTheModelWasNotTrainedOnStandWithoutAConfidence() {
        // technical_issue and greeting are not in the model's classes (Bitext has none).
        assertThat(LearnedModels.intent().labels()).doesNotContain("technical_issue", "greeting");
        Map<String, Object> tech =
                LocalAgentProvider.insights(snapshot("the app keeps crashing when I open it"));
        assertThat(tech.get("intent")).isEqualTo("technical_issue");
        assertThat(tech).doesNotContainKey("confidence");
        Map<String, Object> hi = LocalAgentProvider.insights(snapshot("hello there"));
        assertThat(hi.get("intent")).isEqualTo("greeting");
        assertThat(hi).doesNotContainKey("confidence");
    }

    @Test
    void calibrationIsMonotoneAndTemperatureSoftens() {
        // One feature pushing towards "b": the confidence in "b" rises with its value.
        LinearTextClassifier m =
                new LinearTextClassifier(
                        List.of("a", "b"),
                        2.0,
                        new double[] {0, 0},
                        Map.of("x", new float[] {0f, 1f}),
                        null);
        double previous = 0;
        for (double x = 0.5; x <= 8; x += 0.5) {
            LinearTextClassifier.Prediction p = m.predict(Map.of("x", x));
            assertThat(p.label()).isEqualTo("b");
            assertThat(p.confidence()).isGreaterThan(previous);
            previous = p.confidence();
        }
        double[] z = {2, 0, -1};
        assertThat(LinearTextClassifier.softmax(z, 3)[0])
                .isLessThan(LinearTextClassifier.softmax(z, 1)[0]);
        assertThat(LinearTextClassifier.softmax(z, 1)[0])
                .isCloseTo(Math.exp(2) / (Math.exp(2) + 1 + Math.exp(-1)), within(1e-12));
    }

    @Test
    void jsonRoundTripAndBadShapes() throws Exception {
        LinearTextClassifier m =
                new LinearTextClassifier(
                        List.of("a", "b"),
                        1.5,
                        new double[] {0.25, -0.25},
                        Map.of("u:x", new float[] {0.5f, -0.5f}),
                        null);
        LinearTextClassifier back =
                LinearTextClassifier.fromJson(new ObjectMapper().readTree(m.toJson().toString()));
        assertThat(back.labels()).containsExactly("a", "b");
        assertThat(back.temperature()).isEqualTo(1.5);
        assertThat(back.scores(Map.of("u:x", 1.0))).containsExactly(0.75, -0.75);
        assertThatThrownBy(
                        () ->
                                new LinearTextClassifier(
                                        List.of("a", "b"), 0, new double[2], Map.of(), null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(
                        () ->
                                new LinearTextClassifier(
                                        List.of("a", "b"),
                                        1,
                                        new double[2],
                                        Map.of("f", new float[3]),
                                        null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void featuresDropHandlesAndUrls() {
        assertThat(TextFeatures.tokens("@united my bag https://t.co/x isn’t here www.x.com"))
                .containsExactly("my", "bag", "isn't", "here");
        Map<String, Double> f =
                TextFeatures.extract("Bag lost", SentimentScores.EMPTY, List.of("r:x"));
        assertThat(f)
                .containsKeys(
                        "u:bag", "u:lost", "b:<s>_bag", "b:bag_lost", "c:_bag", "c:bag_", "r:x")
                .containsEntry("v:compound", 0.0);
    }

    private static ConversationSnapshot snapshot(String text) {
        Instant t = Instant.parse("2024-01-01T00:00:00Z");
        TranscriptEntry e = new TranscriptEntry("m1", "customer", text, t);
        return new ConversationSnapshot(
                "t", "c", 1, 1, e, List.of(e), t, t, List.of(), new SourceRef("x", 0, 0));
    }
}

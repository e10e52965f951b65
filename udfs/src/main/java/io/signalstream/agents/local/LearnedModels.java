package io.signalstream.agents.local;

import java.util.List;
import java.util.Map;

/**
 * The learned local models (sentiment, intent) and their features, shared by the runtime ({@link
 * LocalAgentProvider}) and the trainer ({@code eval train}, which writes the resources). Each model
 * is read from the classpath once per JVM, on first use (static lazy holders, thread-safe by the
 * class-initialisation guarantee); nothing is downloaded.
 *
 * <ul>
 *   <li>sentiment: {@link TextFeatures} of the message plus its VADER scores (support-chat variant)
 *       → {@code negative | neutral | positive}
 *   <li>intent: the same features plus the keyword rules' intent ({@code r:<intent>}) → one intent
 *       of the Bitext-mapped part of our taxonomy
 * </ul>
 */
public final class LearnedModels {

    /** Classpath location of the sentiment model. */
    public static final String SENTIMENT_RESOURCE = "/models/sentiment-v1.json.gz";

    /** Classpath location of the intent model. */
    public static final String INTENT_RESOURCE = "/models/intent-v1.json.gz";

    private LearnedModels() {}

    /**
     * Sentiment features of a message.
     *
     * @param text the message
     * @param vader its VADER scores ({@link VaderSentimentAnalyzer#forSupportChat()})
     */
    public static Map<String, Double> sentimentFeatures(String text, SentimentScores vader) {
        return TextFeatures.extract(text, vader, List.of());
    }

    /**
     * Intent features of a message.
     *
     * @param text the message
     * @param vader its VADER scores
     * @param ruleIntent the intent {@link InsightsRules} found for it
     */
    public static Map<String, Double> intentFeatures(
            String text, SentimentScores vader, String ruleIntent) {
        return TextFeatures.extract(text, vader, List.of("r:" + ruleIntent));
    }

    /** The sentiment model (loaded on first call). */
    public static LinearTextClassifier sentiment() {
        return SentimentHolder.MODEL;
    }

    /** The intent model (loaded on first call). */
    public static LinearTextClassifier intent() {
        return IntentHolder.MODEL;
    }

    private static final class SentimentHolder {
        static final LinearTextClassifier MODEL =
                LinearTextClassifier.fromResource(SENTIMENT_RESOURCE);
    }

    private static final class IntentHolder {
        static final LinearTextClassifier MODEL =
                LinearTextClassifier.fromResource(INTENT_RESOURCE);
    }
}

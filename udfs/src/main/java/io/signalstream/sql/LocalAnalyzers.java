package io.signalstream.sql;

import io.signalstream.agents.local.InsightsRules;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.VaderSentimentAnalyzer;

/**
 * One shared instance of each local analyzer per JVM (class loader), created on first use: they are
 * thread-safe and immutable, and their construction (lexicon, rules, phone metadata) is too costly
 * to repeat per function instance or per row.
 */
final class LocalAnalyzers {

    private LocalAnalyzers() {}

    /** The PII recognizers (phone numbers without {@code +} parsed as US numbers). */
    static PiiDetector pii() {
        return PiiHolder.INSTANCE;
    }

    /** VADER adapted to support chat ({@link VaderSentimentAnalyzer#forSupportChat()}). */
    static VaderSentimentAnalyzer vader() {
        return VaderHolder.INSTANCE;
    }

    /** The bundled insights rules. */
    static InsightsRules insights() {
        return InsightsHolder.INSTANCE;
    }

    private static final class PiiHolder {
        static final PiiDetector INSTANCE = new PiiDetector();
    }

    private static final class VaderHolder {
        static final VaderSentimentAnalyzer INSTANCE = VaderSentimentAnalyzer.forSupportChat();
    }

    private static final class InsightsHolder {
        static final InsightsRules INSTANCE = new InsightsRules();
    }
}

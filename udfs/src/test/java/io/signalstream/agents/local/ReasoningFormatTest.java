package io.signalstream.agents.local;

import org.junit.jupiter.api.Test;

import java.util.Locale;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link LocalAgentProvider#fixed(double, int)} is {@code String.format("%.nf")}. */
class ReasoningFormatTest {

    @Test
    void sameAsFormatterOnEdgesAndRandomValues() {
        double[] edges = {
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.0005,
            -0.0005,
            0.0015,
            0.0025,
            0.9995,
            -0.9995,
            0.005,
            0.015,
            0.125,
            -0.125,
            0.3125,
            1e-7,
            -1e-7,
            0.00049999999999999,
            0.4445,
            0.8725,
            -0.5719,
            123.4565,
            Double.MIN_VALUE,
            -Double.MIN_VALUE
        };
        for (double v : edges) {
            check(v);
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 40_000; i++) {
            check(random.nextDouble(-1.0, 1.0));
            // values on a 4-decimal grid, where half-up rounding matters
            check(Math.round(random.nextDouble(-1.0, 1.0) * 10_000) / 10_000.0);
            check(Math.round(random.nextDouble(0.0, 1.0) * 1000) / 1000.0);
        }
    }

    @Test
    void reasoningText() {
        SentimentScores s = VaderSentimentAnalyzer.forSupportChat().analyze("I love it, thanks!");
        assertThat(LocalAgentProvider.reasoning(s))
                .isEqualTo(
                        String.format(
                                Locale.ROOT,
                                "VADER compound %.3f (positive %.2f, neutral %.2f, negative %.2f)",
                                s.compound(),
                                s.positive(),
                                s.neutral(),
                                s.negative()));
    }

    private static void check(double v) {
        for (int scale = 1; scale <= 4; scale++) {
            assertThat(LocalAgentProvider.fixed(v, scale))
                    .as("%s at scale %d", v, scale)
                    .isEqualTo(String.format(Locale.ROOT, "%." + scale + "f", v));
        }
    }
}

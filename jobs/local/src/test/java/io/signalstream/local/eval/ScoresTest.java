package io.signalstream.local.eval;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ScoresTest {

    @Test
    void rougeOnTheTextbookExample() {
        // Lin (2004): candidate "the cat was found under the bed", reference "the cat was under the
        // bed".
        List<String> cand = Scores.tokens("The cat was found under the bed.");
        List<String> ref = Scores.tokens("the cat was under the bed");
        // ROUGE-1: 6 of 7 candidate unigrams match, all 6 reference unigrams: P 6/7, R 6/6.
        assertThat(Scores.rougeN(cand, ref, 1))
                .isCloseTo(2 * (6.0 / 7) * 1 / (6.0 / 7 + 1), within(1e-9));
        // ROUGE-2: bigrams the-cat, cat-was, under-the, the-bed match: P 4/6, R 4/5.
        assertThat(Scores.rougeN(cand, ref, 2))
                .isCloseTo(2 * (4.0 / 6) * (4.0 / 5) / (4.0 / 6 + 4.0 / 5), within(1e-9));
        // ROUGE-L: the LCS is the whole reference (6 tokens): P 6/7, R 1.
        assertThat(Scores.rougeL(cand, ref)).isCloseTo(2 * (6.0 / 7) / (6.0 / 7 + 1), within(1e-9));
        assertThat(Scores.rougeL(cand, List.of())).isZero();
        assertThat(Scores.rougeN(List.of("a"), List.of("b"), 1)).isZero();
    }

    @Test
    void clippedCountsDoNotRewardRepetition() {
        assertThat(Scores.rougeN(Scores.tokens("the the the"), Scores.tokens("the cat"), 1))
                .isCloseTo(2 * (1.0 / 3) * 0.5 / (1.0 / 3 + 0.5), within(1e-9));
    }

    @Test
    void precisionRecallF1AndMacroF1() {
        Scores.Counts a = new Scores.Counts();
        a.add(3, 1, 2);
        assertThat(a.precision()).isEqualTo(0.75);
        assertThat(a.recall()).isEqualTo(0.6);
        assertThat(a.f1()).isCloseTo(2 * 0.75 * 0.6 / 1.35, within(1e-12));
        assertThat(a.support()).isEqualTo(5);
        Scores.Counts empty = new Scores.Counts();
        assertThat(empty.f1()).isZero();
        assertThat(Scores.macroF1(Map.of("a", a, "b", empty))).isCloseTo(a.f1() / 2, within(1e-12));
    }
}

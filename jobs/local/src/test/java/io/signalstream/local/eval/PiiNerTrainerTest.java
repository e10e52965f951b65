package io.signalstream.local.eval;

import io.signalstream.agents.local.PiiNameFinder;

import opennlp.tools.namefind.NameSample;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The PII name finder's split, training data shape, calibration and held-out quality. */
class PiiNerTrainerTest {

    /** {@code shared/data/pii/presidio-synth-v2.json}, beside the repository. */
    private static Path presidio() {
        String relative = "shared/data/pii/presidio-synth-v2.json";
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(
                relative + " not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void trainingAndHeldOutPartsAreDisjointAndSized() throws Exception {
        List<PiiNerTrainer.Sentence> all = PiiNerTrainer.read(presidio());
        Set<String> train = new HashSet<>();
        Set<String> held = new HashSet<>();
        for (PiiNerTrainer.Sentence s : all) {
            (PiiSplit.isHeldOut(s.text()) ? held : train).add(s.text());
        }
        assertThat(train).doesNotContainAnyElementsOf(held);
        double share = (double) PiiNerTrainer.part(all, PiiSplit.Part.HELD_OUT).size() / all.size();
        assertThat(share).isBetween(0.25, 0.35);
        assertThat(PiiNerTrainer.part(all, PiiSplit.Part.CALIBRATION)).isNotEmpty();
        assertThat(PiiNerTrainer.part(all, PiiSplit.Part.FIT).size())
                .isGreaterThan(PiiNerTrainer.part(all, PiiSplit.Part.CALIBRATION).size());
        // Deterministic: the same text always lands in the same part.
        for (PiiNerTrainer.Sentence s : all.subList(0, 50)) {
            assertThat(PiiSplit.of(s.text())).isEqualTo(PiiSplit.of(new String(s.text())));
        }
    }

    @Test
    void goldSpansBecomeTokenSpans() {
        String text = "Name: Toshimi Arata\nAddress: 12 Main St, Berlin";
        PiiNerTrainer.Sentence s =
                new PiiNerTrainer.Sentence(
                        text,
                        List.of(
                                new PiiNerTrainer.Gold("PERSON", 6, 19),
                                new PiiNerTrainer.Gold("STREET_ADDRESS", 29, 39),
                                new PiiNerTrainer.Gold("CREDIT_CARD", 0, 4)));
        NameSample sample = PiiNerTrainer.sample(s);
        assertThat(sample.getNames()).hasSize(2);
        assertThat(
                        String.join(
                                " ",
                                java.util.Arrays.copyOfRange(
                                        sample.getSentence(),
                                        sample.getNames()[0].getStart(),
                                        sample.getNames()[0].getEnd())))
                .isEqualTo("Toshimi Arata");
        assertThat(sample.getNames()[1].getType()).isEqualTo("STREET_ADDRESS");
    }

    @Test
    void calibrationIsMonotone() {
        double[] p = PiiNerTrainer.pav(new double[][] {{1, 10}, {8, 10}, {5, 10}, {9, 10}});
        for (int i = 1; i < p.length; i++) {
            assertThat(p[i]).isGreaterThanOrEqualTo(p[i - 1]);
        }
        assertThat(p[0]).isLessThan(p[3]);
    }

    /**
     * The shipped model on the 30% it never saw, with its confidence floors: PERSON precision 0.99,
     * recall 0.78, GPE precision 0.88, recall 0.33 when measured (issue 15 targets PERSON recall
     * 0.6 at precision 0.9); STREET_ADDRESS is below its floor (not reported). Bounds below the
     * measured values.
     */
    @Test
    void shippedModelOnTheHeldOutPart() throws Exception {
        List<PiiNerTrainer.Sentence> held =
                PiiNerTrainer.part(PiiNerTrainer.read(presidio()), PiiSplit.Part.HELD_OUT);
        Map<String, Map<String, Object>> s =
                PiiNerTrainer.score(PiiNameFinder.shared(), held, PiiNerTrainer.MIN_CONFIDENCE);
        System.out.println("held-out PII name finder: " + s);
        assertThat((double) s.get("PERSON").get("precision")).isGreaterThanOrEqualTo(0.9);
        assertThat((double) s.get("PERSON").get("recall")).isGreaterThanOrEqualTo(0.7);
        assertThat((double) s.get("GPE").get("precision")).isGreaterThanOrEqualTo(0.85);
        assertThat((double) s.get("GPE").get("recall")).isGreaterThanOrEqualTo(0.3);
        assertThat((double) s.get("STREET_ADDRESS").get("recall")).isZero();
    }

    /**
     * The shipped floors are the ones chosen on the CALIBRATION part (lowest confidence with
     * precision at least 0.9 there), recomputed from the shipped model and calibration table.
     */
    @Test
    void shippedFloorsAreTheCalibrationPartsFloors() throws Exception {
        List<PiiNerTrainer.Sentence> cal =
                PiiNerTrainer.part(PiiNerTrainer.read(presidio()), PiiSplit.Part.CALIBRATION);
        PiiNameFinder noFloors;
        try (var m = PiiNameFinder.class.getResourceAsStream(PiiNameFinder.MODEL_RESOURCE);
                var c =
                        PiiNameFinder.class.getResourceAsStream(
                                PiiNameFinder.CALIBRATION_RESOURCE);
                var w =
                        PiiNameFinder.class.getResourceAsStream(
                                PiiNameFinder.COMMON_WORDS_RESOURCE)) {
            noFloors =
                    new PiiNameFinder(
                            new opennlp.tools.namefind.TokenNameFinderModel(m),
                            PiiNameFinder.readCalibration(
                                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(c)),
                            0.0,
                            PiiNameFinder.readWords(w));
        }
        assertThat(PiiNerTrainer.floors(noFloors, cal)).isEqualTo(PiiNameFinder.DEFAULT_FLOORS);
    }
}

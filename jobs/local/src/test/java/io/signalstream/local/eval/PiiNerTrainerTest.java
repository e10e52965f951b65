package io.signalstream.local.eval;

import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiNameFinder;

import opennlp.tools.namefind.NameSample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The PII name finder's split, training data shape, calibration and held-out quality. */
class PiiNerTrainerTest {

    @TempDir Path tmp;

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

    @Test
    void recognizerLevelsArePrecisionWithLaplaceSmoothingAndRareLevelsArePooled() {
        List<PiiNerTrainer.Sentence> sentences = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String text = "mail me at user" + i + "@example.org please";
            int at = text.indexOf("user");
            sentences.add(
                    new PiiNerTrainer.Sentence(
                            text,
                            List.of(
                                    new PiiNerTrainer.Gold(
                                            "EMAIL_ADDRESS", at, text.indexOf(" please")))));
        }
        // One e-mail the labels do not call PII, and one IP address (a level seen once).
        sentences.add(new PiiNerTrainer.Sentence("write to noreply@example.org", List.of()));
        String ip = "my server is 10.1.2.3";
        sentences.add(
                new PiiNerTrainer.Sentence(
                        ip,
                        List.of(
                                new PiiNerTrainer.Gold(
                                        "IP_ADDRESS", ip.indexOf("10."), ip.length()))));

        Map<String, Map<String, Map<String, Object>>> levels =
                PiiNerTrainer.recognizerCalibration(sentences);

        Map<String, Object> mail =
                levels.get("EMAIL_ADDRESS").get(String.valueOf(PiiDetector.SCORE_EMAIL));
        assertThat(mail).containsEntry("findings", 7).containsEntry("correct", 6);
        assertThat((double) mail.get("confidence")).isEqualTo(Scores.round(7.0 / 9.0));
        Map<String, Object> addr =
                levels.get("IP_ADDRESS").get(String.valueOf(PiiDetector.SCORE_IP));
        assertThat(addr).containsEntry("findings", 1).containsEntry("pooled_with_type", true);
        assertThat((double) addr.get("confidence")).isEqualTo(Scores.round(2.0 / 3.0));
    }

    @Test
    void shippedRecognizerCalibrationIsWhatTheTrainingPartsGive() throws Exception {
        Path data = ModelTrainerTest.sharedData().resolve("pii/presidio-synth-v2.json");
        List<PiiNerTrainer.Sentence> all = PiiNerTrainer.read(data);
        Path out = tmp.resolve("pii-levels");

        Map<String, Map<String, Map<String, Object>>> levels =
                PiiNerTrainer.writeRecognizerCalibration(all, "presidio-synth-v2.json", out);

        // The shipped resource was written by `eval train-pii` from the same parts.
        try (var in =
                PiiDetector.class.getResourceAsStream(
                        "/models/" + PiiDetector.RECOGNIZER_CALIBRATION_FILE)) {
            assertThat(in).isNotNull();
            assertThat(io.signalstream.serde.Json.MAPPER.readTree(in).get("levels"))
                    .isEqualTo(io.signalstream.serde.Json.MAPPER.valueToTree(levels));
        }
        assertThat(levels).containsKeys("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD");
        // The runtime reads the same numbers.
        Map<String, Object> mail =
                levels.get("EMAIL_ADDRESS").get(String.valueOf(PiiDetector.SCORE_EMAIL));
        assertThat(
                        PiiDetector.confidence(
                                new io.signalstream.agents.local.PiiEntity(
                                        "EMAIL_ADDRESS", 0, 5, PiiDetector.SCORE_EMAIL, "a@b.c")))
                .isEqualTo((double) mail.get("confidence"));
        // A learned type's score is already its calibrated confidence.
        assertThat(
                        PiiDetector.confidence(
                                new io.signalstream.agents.local.PiiEntity(
                                        "PERSON", 0, 5, 0.8125, "Maria")))
                .isEqualTo(0.8125);
    }

    @Test
    void aRareLevelIsNeverSurerThanTheMeasuredLevelsOfItsType() {
        Map<Double, int[]> counts = new java.util.TreeMap<>();
        counts.put(0.6, new int[] {16, 16});
        counts.put(0.7, new int[] {1, 1});
        counts.put(0.8, new int[] {31, 30});

        Map<String, Map<String, Object>> m = PiiNerTrainer.levelConfidences(counts);

        assertThat((double) m.get("0.6").get("confidence")).isEqualTo(Scores.round(17.0 / 18));
        assertThat((double) m.get("0.8").get("confidence")).isEqualTo(Scores.round(31.0 / 33));
        // The rare level takes the lower of the two measured ones, not the pooled 48/50.
        assertThat(m.get("0.7"))
                .containsEntry("pooled_with_type", true)
                .containsEntry("confidence", Scores.round(31.0 / 33));
    }
}

package io.signalstream.local.eval;

import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;
import io.signalstream.agents.local.PiiNameFinder;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import opennlp.tools.ml.BeamSearch;
import opennlp.tools.namefind.BioCodec;
import opennlp.tools.namefind.NameFinderME;
import opennlp.tools.namefind.NameSample;
import opennlp.tools.namefind.TokenNameFinderFactory;
import opennlp.tools.namefind.TokenNameFinderModel;
import opennlp.tools.util.ObjectStreamUtils;
import opennlp.tools.util.Span;
import opennlp.tools.util.TrainingParameters;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Trains the PII name finder ({@link PiiNameFinder}) on the Presidio synthetic set: fits an OpenNLP
 * maximum-entropy model on the {@link PiiSplit.Part#FIT} sentences, measures a reliability table
 * per type on the {@link PiiSplit.Part#CALIBRATION} sentences, and scores the result on the {@link
 * PiiSplit.Part#HELD_OUT} sentences (which it never reads for training). Deterministic: the same
 * data gives the same model.
 */
public final class PiiNerTrainer {

    /** Types the model learns; ORGANIZATION is learned so that it is not taken for the others. */
    public static final List<String> LEARNED_TYPES =
            List.of("PERSON", "STREET_ADDRESS", "GPE", "ORGANIZATION");

    /** Lower edges of the calibration bins of the span probability. */
    static final double[] BIN_LOWER = {0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};

    /** Default minimum calibrated confidence of a reported finding. */
    public static final double MIN_CONFIDENCE = 0.6;

    /** Training iterations of the maximum-entropy model. */
    public static final int ITERATIONS = 150;

    /** Beam of the decoder: 1 is greedy, about three times faster than OpenNLP's default 3. */
    public static final int BEAM_SIZE = 1;

    /** Features seen fewer times than this are dropped (keeps the model small). */
    public static final int CUTOFF = 2;

    /** One labelled sentence. */
    public record Sentence(String text, List<Gold> spans) {}

    /** One labelled span. */
    public record Gold(String type, int start, int end) {}

    private PiiNerTrainer() {}

    /** Reads the Presidio JSON ({@code full_text, spans[{entity_type, start/end_position}]}). */
    public static List<Sentence> read(Path data) throws IOException {
        List<Sentence> out = new ArrayList<>();
        for (JsonNode r : Json.MAPPER.readTree(data.toFile())) {
            List<Gold> spans = new ArrayList<>();
            for (JsonNode s : r.path("spans")) {
                spans.add(
                        new Gold(
                                s.get("entity_type").asText(),
                                s.get("start_position").asInt(),
                                s.get("end_position").asInt()));
            }
            out.add(new Sentence(r.get("full_text").asText(), spans));
        }
        return out;
    }

    /** The sentences of one part of the split. */
    public static List<Sentence> part(List<Sentence> all, PiiSplit.Part part) {
        return all.stream().filter(s -> PiiSplit.of(s.text()) == part).toList();
    }

    /**
     * The sentence as OpenNLP tokens with the learned types' spans in token offsets; a gold span
     * covers the tokens inside it; spans overlapping an earlier one are dropped.
     */
    static NameSample sample(Sentence s) {
        Span[] tokens = PiiNameFinder.tokenize(s.text());
        String[] words = new String[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            words[i] = tokens[i].getCoveredText(s.text()).toString();
        }
        List<Span> names = new ArrayList<>();
        List<Gold> sorted = new ArrayList<>(s.spans());
        sorted.sort((a, b) -> Integer.compare(a.start(), b.start()));
        int lastEnd = 0;
        for (Gold g : sorted) {
            if (!LEARNED_TYPES.contains(g.type())) {
                continue;
            }
            int first = -1;
            int last = -1;
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i].getStart() >= g.start() && tokens[i].getEnd() <= g.end()) {
                    if (first < 0) {
                        first = i;
                    }
                    last = i;
                }
            }
            if (first >= 0 && first >= lastEnd) {
                names.add(new Span(first, last + 1, g.type()));
                lastEnd = last + 1;
            }
        }
        return new NameSample(words, names.toArray(new Span[0]), true);
    }

    /**
     * Reads sentences without PII from a CSV column (e.g. BANKING77's {@code text}, Bitext's {@code
     * response}): every {@code every}-th row, as sentences with no spans. They teach the model that
     * capitalised words at a sentence start or in product names are not names.
     */
    public static List<Sentence> readNegatives(Path csv, String column, int every)
            throws IOException {
        CsvMapper mapper = new CsvMapper();
        List<Sentence> out = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it =
                mapper.readerForMapOf(String.class)
                        .with(CsvSchema.emptySchema().withHeader())
                        .readValues(csv.toFile())) {
            int i = 0;
            while (it.hasNext()) {
                Map<String, String> row = it.next();
                String text = row.get(column);
                if (i++ % every == 0 && text != null && !text.isBlank()) {
                    out.add(new Sentence(text, List.of()));
                }
            }
        }
        return out;
    }

    /** A map of the key/value pairs in this order (so the written files are byte-stable). */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** A word goes into the common-word list when seen this often in lower case. */
    public static final int MIN_WORD_COUNT = 2;

    private static final java.util.regex.Pattern WORD = java.util.regex.Pattern.compile("[a-z]+");

    /**
     * The lower-case words (ASCII letters, at least two) seen at least {@value #MIN_WORD_COUNT}
     * times written in lower case in {@code files} (read as plain text).
     *
     * @throws IOException if a file cannot be read
     */
    public static Set<String> vocabulary(List<Path> files) throws IOException {
        Map<String, Integer> counts = new java.util.HashMap<>();
        for (Path f : files) {
            for (String token : Files.readString(f).split("[^A-Za-z]+")) {
                if (token.length() > 1 && WORD.matcher(token).matches()) {
                    counts.merge(token, 1, Integer::sum);
                }
            }
        }
        Set<String> out = new java.util.TreeSet<>();
        counts.forEach(
                (w, n) -> {
                    if (n >= MIN_WORD_COUNT) {
                        out.add(w);
                    }
                });
        return out;
    }

    /** Fits the model on {@code fit}. */
    public static TokenNameFinderModel fit(List<Sentence> fit) throws IOException {
        List<NameSample> samples = fit.stream().map(PiiNerTrainer::sample).toList();
        TrainingParameters params = TrainingParameters.defaultParams();
        params.put(TrainingParameters.ITERATIONS_PARAM, ITERATIONS);
        params.put(TrainingParameters.CUTOFF_PARAM, CUTOFF);
        params.put(TrainingParameters.THREADS_PARAM, 1);
        params.put(BeamSearch.BEAM_SIZE_PARAMETER, BEAM_SIZE);
        TokenNameFinderFactory factory =
                TokenNameFinderFactory.create(null, null, Collections.emptyMap(), new BioCodec());
        return NameFinderME.train(
                "en", null, ObjectStreamUtils.createObjectStream(samples), params, factory);
    }

    /**
     * Reliability table per reported type: in each probability bin, the share of the finder's spans
     * that match a gold span exactly, smoothed ({@code (tp + 1) / (n + 2)}) and made monotone (pool
     * adjacent violators) so that a higher probability never means a lower confidence.
     */
    public static Map<String, PiiNameFinder.Calibration> calibrate(
            TokenNameFinderModel model, Set<String> commonWords, List<Sentence> calibration) {
        PiiNameFinder raw = new PiiNameFinder(model, Map.of(), 0.0, commonWords);
        Map<String, double[][]> counts = new TreeMap<>();
        for (String t : PiiNameFinder.TYPES) {
            counts.put(t, new double[BIN_LOWER.length][2]);
        }
        for (Sentence s : calibration) {
            for (PiiNameFinder.RawSpan r : raw.findRaw(s.text())) {
                double[][] c = counts.get(r.type());
                if (c == null) {
                    continue;
                }
                int bin = bin(r.probability());
                boolean hit =
                        s.spans().stream()
                                .anyMatch(
                                        g ->
                                                g.type().equals(r.type())
                                                        && g.start() == r.start()
                                                        && g.end() == r.end());
                c[bin][0] += hit ? 1 : 0;
                c[bin][1] += 1;
            }
        }
        Map<String, PiiNameFinder.Calibration> out = new LinkedHashMap<>();
        counts.forEach((t, c) -> out.put(t, new PiiNameFinder.Calibration(BIN_LOWER, pav(c))));
        return out;
    }

    /**
     * Per-type confidence floor chosen on the calibration part: the lowest calibrated confidence
     * {@code c} at which the type's findings with confidence at least {@code c} reach {@link
     * PiiNameFinder#FLOOR_PRECISION} (exact span); {@link Double#POSITIVE_INFINITY} when no
     * confidence does (the type is then not reported).
     *
     * @param calibrated the finder with its calibration, no minimum and no floors
     * @param calibration the CALIBRATION part (never the held-out part)
     * @return floor per type of {@link PiiNameFinder#TYPES}
     */
    public static Map<String, Double> floors(PiiNameFinder calibrated, List<Sentence> calibration) {
        Map<String, TreeMap<Double, int[]>> byConfidence = new TreeMap<>();
        for (String t : PiiNameFinder.TYPES) {
            byConfidence.put(t, new TreeMap<>());
        }
        for (Sentence s : calibration) {
            for (PiiEntity e : calibrated.find(s.text())) {
                boolean hit =
                        s.spans().stream()
                                .anyMatch(
                                        g ->
                                                g.type().equals(e.type())
                                                        && g.start() == e.start()
                                                        && g.end() == e.end());
                int[] c = byConfidence.get(e.type()).computeIfAbsent(e.score(), k -> new int[2]);
                c[0] += hit ? 1 : 0;
                c[1] += 1;
            }
        }
        Map<String, Double> out = new TreeMap<>();
        byConfidence.forEach(
                (t, m) -> {
                    double floor = Double.POSITIVE_INFINITY;
                    int tp = 0;
                    int n = 0;
                    // From the highest confidence down: the last level still at the precision.
                    for (Map.Entry<Double, int[]> e : m.descendingMap().entrySet()) {
                        tp += e.getValue()[0];
                        n += e.getValue()[1];
                        if ((double) tp / n >= PiiNameFinder.FLOOR_PRECISION) {
                            floor = e.getKey();
                        }
                    }
                    out.put(t, floor);
                });
        return out;
    }

    static int bin(double p) {
        int i = 0;
        while (i + 1 < BIN_LOWER.length && p >= BIN_LOWER[i + 1]) {
            i++;
        }
        return i;
    }

    /** Pool-adjacent-violators over smoothed bin precisions weighted by bin counts. */
    static double[] pav(double[][] c) {
        int n = c.length;
        double[] value = new double[n];
        double[] weight = new double[n];
        int[] size = new int[n];
        int blocks = 0;
        for (int i = 0; i < n; i++) {
            value[blocks] = (c[i][0] + 1) / (c[i][1] + 2);
            weight[blocks] = c[i][1] + 2;
            size[blocks] = 1;
            blocks++;
            while (blocks > 1 && value[blocks - 2] > value[blocks - 1]) {
                double w = weight[blocks - 2] + weight[blocks - 1];
                value[blocks - 2] =
                        (value[blocks - 2] * weight[blocks - 2]
                                        + value[blocks - 1] * weight[blocks - 1])
                                / w;
                weight[blocks - 2] = w;
                size[blocks - 2] += size[blocks - 1];
                blocks--;
            }
        }
        double[] out = new double[n];
        int k = 0;
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < size[b]; j++) {
                out[k++] = Math.round(value[b] * 1000) / 1000.0;
            }
        }
        return out;
    }

    /** Per-type precision, recall and F1 (exact spans) of {@code finder} on {@code sentences}. */
    public static Map<String, Map<String, Object>> score(
            PiiNameFinder finder, List<Sentence> sentences, double minConfidence) {
        Map<String, Scores.Counts> counts = new TreeMap<>();
        for (String t : PiiNameFinder.TYPES) {
            counts.put(t, new Scores.Counts());
        }
        for (Sentence s : sentences) {
            List<Gold> gold =
                    s.spans().stream().filter(g -> PiiNameFinder.TYPES.contains(g.type())).toList();
            boolean[] used = new boolean[gold.size()];
            for (PiiEntity e : finder.find(s.text())) {
                if (e.score() < minConfidence) {
                    continue;
                }
                int hit = -1;
                for (int g = 0; g < gold.size() && hit < 0; g++) {
                    Gold x = gold.get(g);
                    if (!used[g]
                            && x.type().equals(e.type())
                            && x.start() == e.start()
                            && x.end() == e.end()) {
                        hit = g;
                    }
                }
                if (hit >= 0) {
                    used[hit] = true;
                    counts.get(e.type()).add(1, 0, 0);
                } else {
                    counts.get(e.type()).add(0, 1, 0);
                }
            }
            for (int g = 0; g < gold.size(); g++) {
                if (!used[g]) {
                    counts.get(gold.get(g).type()).add(0, 0, 1);
                }
            }
        }
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        counts.forEach((t, c) -> out.put(t, c.toMap()));
        return out;
    }

    /**
     * The measured precision of each fixed score level of the validated recognizers ({@link
     * PiiDetector#VALIDATED_TYPES}, names off) on {@code sentences}: a finding is correct when it
     * overlaps a gold span of its type. Each level's confidence is the smoothed precision {@code
     * (correct + 1) / (findings + 2)} (Laplace's rule of succession), so a level seen rarely stays
     * away from 1; a level with fewer than {@value #MIN_LEVEL_FINDINGS} findings takes the lowest
     * confidence of its type's measured levels (never surer than those; all levels pooled, same
     * rule, when none has enough); a level never seen is not listed (its fixed score stands).
     *
     * @param sentences labelled sentences (the fit and calibration parts; never the held-out one)
     * @return type → score level (as {@link String#valueOf(double)}) → {@code findings}, {@code
     *     correct}, {@code confidence}
     */
    public static Map<String, Map<String, Map<String, Object>>> recognizerCalibration(
            List<Sentence> sentences) {
        PiiDetector detector = new PiiDetector("US", false);
        Map<String, Map<Double, int[]>> counts = new TreeMap<>();
        for (Sentence s : sentences) {
            for (PiiEntity e : detector.detect(s.text())) {
                if (!PiiDetector.VALIDATED_TYPES.contains(e.type())) {
                    continue;
                }
                boolean correct =
                        s.spans().stream()
                                .anyMatch(
                                        g ->
                                                g.type().equals(e.type())
                                                        && g.start() < e.end()
                                                        && e.start() < g.end());
                int[] c =
                        counts.computeIfAbsent(e.type(), t -> new TreeMap<>())
                                .computeIfAbsent(e.score(), x -> new int[2]);
                c[0]++;
                c[1] += correct ? 1 : 0;
            }
        }
        Map<String, Map<String, Map<String, Object>>> out = new TreeMap<>();
        counts.forEach((type, levels) -> out.put(type, levelConfidences(levels)));
        return out;
    }

    /**
     * The confidence of each score level of one type from its counts ({@link
     * #recognizerCalibration}).
     *
     * @param levels score level → {findings, correct}
     * @return score level (as {@link String#valueOf(double)}) → {@code findings}, {@code correct},
     *     {@code confidence} and, for a level too rare for its own, {@code pooled_with_type}
     */
    static Map<String, Map<String, Object>> levelConfidences(Map<Double, int[]> levels) {
        int n = levels.values().stream().mapToInt(c -> c[0]).sum();
        int ok = levels.values().stream().mapToInt(c -> c[1]).sum();
        double rare =
                levels.values().stream()
                        .filter(c -> c[0] >= MIN_LEVEL_FINDINGS)
                        .mapToDouble(c -> (c[1] + 1.0) / (c[0] + 2.0))
                        .min()
                        .orElse((ok + 1.0) / (n + 2.0));
        Map<String, Map<String, Object>> m = new LinkedHashMap<>();
        new TreeMap<>(levels)
                .forEach(
                        (level, c) -> {
                            boolean pooled = c[0] < MIN_LEVEL_FINDINGS;
                            Map<String, Object> row =
                                    ordered(
                                            "findings",
                                            c[0],
                                            "correct",
                                            c[1],
                                            "confidence",
                                            Scores.round(
                                                    pooled ? rare : (c[1] + 1.0) / (c[0] + 2.0)));
                            if (pooled) {
                                row.put("pooled_with_type", true);
                            }
                            m.put(String.valueOf(level), row);
                        });
        return m;
    }

    /** Findings a score level needs for its own confidence (else its type's, pooled). */
    public static final int MIN_LEVEL_FINDINGS = 5;

    /**
     * Writes {@code pii-recognizers.calibration.json}: {@link #recognizerCalibration} of the
     * Presidio sentences outside the held-out part.
     *
     * @param all every Presidio sentence (the held-out part is left out here)
     * @param dataName the data file's name, for the header
     * @param outDir where to write
     * @return the levels written
     * @throws IOException if the file cannot be written
     */
    public static Map<String, Map<String, Map<String, Object>>> writeRecognizerCalibration(
            List<Sentence> all, String dataName, Path outDir) throws IOException {
        List<Sentence> known = new ArrayList<>(part(all, PiiSplit.Part.FIT));
        known.addAll(part(all, PiiSplit.Part.CALIBRATION));
        Map<String, Map<String, Map<String, Object>>> levels = recognizerCalibration(known);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(
                "about",
                "Confidence of each fixed score level of the validated PII recognizers"
                    + " (PiiDetector): (correct + 1) / (findings + 2) on the fit and calibration"
                    + " parts of Presidio synth_dataset_v2 (microsoft/presidio-research, MIT); a"
                    + " finding is correct when it overlaps a gold span of its type. Written by"
                    + " `eval train-pii`; the held-out part is never read.");
        json.put("data", dataName);
        json.put("split_seed", PiiSplit.SEED);
        json.put("sentences", known.size());
        json.put("levels", levels);
        Files.createDirectories(outDir);
        Files.write(
                outDir.resolve(PiiDetector.RECOGNIZER_CALIBRATION_FILE),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
        return levels;
    }

    /**
     * Trains, calibrates and writes {@code pii-ner-en.bin} and {@code pii-ner-en.calibration.json}
     * into {@code outDir}, and the validated recognizers' calibration ({@link
     * #writeRecognizerCalibration}).
     *
     * @param data the Presidio JSON
     * @param negatives sentences without PII added to the fit part
     * @param negativesAbout where the negatives come from and their licences (for the header)
     * @param vocabularyFiles text files whose lower-case words make the common-word list
     * @param outDir directory to write the two files to
     * @param log progress lines
     * @throws IOException if a file cannot be read or written
     * @return the report: sizes, split counts, calibration and held-out scores
     */
    public static Map<String, Object> train(
            Path data,
            List<Sentence> negatives,
            String negativesAbout,
            List<Path> vocabularyFiles,
            Path outDir,
            PrintStream log)
            throws IOException {
        List<Sentence> all = read(data);
        List<Sentence> fit = new ArrayList<>(part(all, PiiSplit.Part.FIT));
        fit.addAll(negatives);
        List<Sentence> cal = part(all, PiiSplit.Part.CALIBRATION);
        List<Sentence> held = part(all, PiiSplit.Part.HELD_OUT);
        log.printf(
                "PII name finder: %d sentences, fit %d (%d of them without PII from --negatives),"
                        + " calibration %d, held out %d (seed %s)%n",
                all.size(), fit.size(), negatives.size(), cal.size(), held.size(), PiiSplit.SEED);
        TokenNameFinderModel model = fit(fit);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        model.serialize(bytes);
        // Score exactly what is shipped: the serialized model read back.
        TokenNameFinderModel shipped =
                new TokenNameFinderModel(new ByteArrayInputStream(bytes.toByteArray()));
        Set<String> common = vocabulary(vocabularyFiles);
        Map<String, PiiNameFinder.Calibration> calibration = calibrate(shipped, common, cal);
        Map<String, Object> calJson = new LinkedHashMap<>();
        calJson.put(
                "about",
                "Calibration of pii-ner-en.bin (Apache OpenNLP maxent name finder, "
                        + ITERATIONS
                        + " iterations, cutoff "
                        + CUTOFF
                        + "), trained by `eval train-pii` on Presidio synth_dataset_v2"
                        + " (microsoft/presidio-research, MIT): fit on the FIT part, calibrated"
                        + " on the CALIBRATION part, held-out part never read.");
        calJson.put("data", data.getFileName().toString());
        calJson.put("negatives", negativesAbout);
        calJson.put("split_seed", PiiSplit.SEED);
        calJson.put("held_out_percent", PiiSplit.HELD_OUT_PERCENT);
        calJson.put("calibration_percent", PiiSplit.CALIBRATION_PERCENT);
        calJson.put("license", "model and table: MIT (data) / Apache-2.0 (OpenNLP)");
        calJson.put("sentences", ordered("fit", fit.size(), "calibration", cal.size()));
        calJson.put("min_confidence", MIN_CONFIDENCE);
        Map<String, Object> types = new LinkedHashMap<>();
        calibration.forEach(
                (t, c) -> types.put(t, ordered("lower", c.lower(), "precision", c.precision())));
        calJson.put("types", types);
        Files.createDirectories(outDir);
        Files.write(outDir.resolve("pii-ner-en.bin"), bytes.toByteArray());
        Files.write(
                outDir.resolve("pii-ner-en.calibration.json"),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(calJson));
        StringBuilder words =
                new StringBuilder(
                        "# Common English words (lower case, seen at least "
                                + MIN_WORD_COUNT
                                + " times in lower case) from: ");
        for (Path f : vocabularyFiles) {
            words.append(f.getFileName()).append(' ');
        }
        words.append("(see README.md). A person's name made only of these is dropped.\n");
        common.forEach(w -> words.append(w).append('\n'));
        Files.writeString(outDir.resolve("pii-common-words.txt"), words);
        Map<String, Double> floors =
                floors(new PiiNameFinder(shipped, calibration, 0.0, common), cal);
        log.printf(
                "Confidence floors (precision >= %.2f on the calibration part): %s; shipped"
                        + " defaults (PiiNameFinder.DEFAULT_FLOORS): %s%n",
                PiiNameFinder.FLOOR_PRECISION, floors, new TreeMap<>(PiiNameFinder.DEFAULT_FLOORS));
        PiiNameFinder finder = new PiiNameFinder(shipped, calibration, 0.0, common, floors);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put(
                "recognizer_levels",
                writeRecognizerCalibration(all, data.getFileName().toString(), outDir));
        Map<String, Object> floorReport = new LinkedHashMap<>();
        floors.forEach((t, f) -> floorReport.put(t, f.isInfinite() ? "off" : f));
        report.put("floors", floorReport);
        report.put("model_bytes", bytes.size());
        report.put(
                "split",
                ordered("fit", fit.size(), "calibration", cal.size(), "held_out", held.size()));
        report.put("calibration", types);
        Map<String, Object> atThreshold = new LinkedHashMap<>();
        for (double th : new double[] {0.0, 0.5, 0.6, 0.7, 0.8, 0.9}) {
            atThreshold.put(String.valueOf(th), score(finder, held, th));
        }
        report.put("held_out_at_confidence", atThreshold);
        return report;
    }

    /**
     * Trains from the command line: {@code PiiNerTrainer DATA OUT_DIR}.
     *
     * @param args the Presidio JSON file and the output directory
     */
    public static void main(String[] args) throws IOException {
        List<Sentence> negatives = new ArrayList<>();
        for (int i = 2; i + 2 < args.length; i += 3) {
            negatives.addAll(
                    readNegatives(Path.of(args[i]), args[i + 1], Integer.parseInt(args[i + 2])));
        }
        Map<String, Object> r =
                train(
                        Path.of(args[0]),
                        negatives,
                        "command line",
                        List.of(
                                Path.of(
                                        "/work/shared/data/sentiment/vader-tweets-groundtruth.tsv")),
                        Path.of(args[1]),
                        System.out);
        System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
    }
}

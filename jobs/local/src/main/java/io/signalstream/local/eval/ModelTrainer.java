package io.signalstream.local.eval;

import io.signalstream.agents.local.InsightsRules;
import io.signalstream.agents.local.LearnedModels;
import io.signalstream.agents.local.LinearTextClassifier;
import io.signalstream.agents.local.SentimentScores;
import io.signalstream.agents.local.VaderSentimentAnalyzer;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

/**
 * {@code eval train}: trains the learned local models ({@link LearnedModels}) from the shipping-
 * licensed sets under a data directory and writes them as gzipped JSON weights.
 *
 * <ul>
 *   <li>sentiment: the VADER tweet ratings (mean rating &gt; 0.5 positive, &lt; -0.5 negative, else
 *       neutral) plus whole intents of Bitext (training split) and BANKING77 labelled negative or
 *       neutral ({@code eval/train-mappings.json})
 *   <li>intent: Bitext's training split (70% by text hash, {@link TrainingSplits}) mapped with
 *       {@code eval/bitext-intents.json}, plus BANKING77 categories that map cleanly
 * </ul>
 *
 * Each: features of {@link LearnedModels}, vocabulary = features seen at least twice in the
 * training part, L2-regularised logistic regression (liblinear, class-balanced weights), C chosen
 * on the calibration part (20% of the training rows by text hash; sentiment: fixed by {@link
 * Options#DEFAULT}), softmax temperature fitted on the calibration part (minimum NLL). Sentiment
 * then self-trains once on the unlabeled customer messages of the shipped conversations (those it
 * labels at confidence ≥ 0.9 join the training rows; the temperature is refitted) and folds their
 * class prior (EM) into the biases; its output temperature (the answer's confidence, not its label)
 * is then fitted on the calibration rows of the VADER tweets only ({@link
 * #OUTPUT_TEMPERATURE_SOURCE}). The evaluation-only sets are refused.
 */
public final class ModelTrainer {

    /**
     * Source of the calibration rows the sentiment model's output temperature is fitted on: the
     * VADER tweets, the only real short social-media text among the training sets.
     */
    static final String OUTPUT_TEMPERATURE_SOURCE = "vader";

    /** Candidate regularisation strengths. */
    static final double[] C_GRID = {0.1, 0.3, 1, 3};

    /** Relative locations under the data directory. */
    public static final String VADER_TWEETS = "sentiment/vader-tweets-groundtruth.tsv";

    /** Bitext (CDLA-Sharing-1.0). */
    public static final String BITEXT = "intent/bitext-public.csv";

    /** BANKING77 (CC BY 4.0). */
    public static final String BANKING77 = "intent/banking77-train.csv";

    /**
     * Real customer-care conversations (Apache-2.0, also shipped in the repository for the demo):
     * the customers' messages, without labels, only to estimate the sentiment class prior of
     * support traffic.
     */
    public static final String CONVERSATIONS = "conversations/ibm-twcc-dev.jsonl";

    /**
     * Design options of the sentiment model (the defaults are what {@code eval train} ships).
     *
     * @param neutralBand VADER tweets with |mean rating| at most this are neutral
     * @param selfTrainRounds rounds of self-training on the unlabeled customer messages (0: none)
     * @param selfTrainConfidence minimum calibrated confidence of a pseudo-label
     * @param biasOffsets added to the final biases, per label (in units of the decision value)
     * @param cGrid candidate regularisation strengths of the sentiment model (chosen on the
     *     calibration part when several)
     */
    record Options(
            double neutralBand,
            int selfTrainRounds,
            double selfTrainConfidence,
            Map<String, Double> biasOffsets,
            double[] cGrid) {

        /**
         * What {@code eval train} uses: C 0.03 and one round of self-training at confidence 0.9,
         * chosen on the DEV half of the airline tweets (see the README).
         */
        static final Options DEFAULT = new Options(0.5, 1, 0.9, Map.of(), new double[] {0.03});
    }

    private Options options = Options.DEFAULT;

    /** Other design options (experiments and tests). */
    ModelTrainer withOptions(Options o) {
        this.options = o;
        return this;
    }

    /** One labelled text. */
    record Example(String text, String label, String source) {}

    private static final VaderSentimentAnalyzer VADER = VaderSentimentAnalyzer.forSupportChat();
    private static final InsightsRules RULES = new InsightsRules();

    private final Path dataDir;
    private final PrintStream log;

    /**
     * @param dataDir the {@code shared/data} directory
     * @param log progress lines, or null
     */
    public ModelTrainer(Path dataDir, PrintStream log) {
        this.dataDir = dataDir;
        this.log = log;
    }

    /**
     * Trains both models and writes {@code sentiment-v1.json.gz} and {@code intent-v1.json.gz}.
     *
     * @param outDir directory to write the models to (created)
     * @return the training report: per model rows, features, C, temperature, calibration-split
     *     scores
     * @throws IOException if a file cannot be read or written
     * @throws IllegalArgumentException if a data file is evaluation-only
     */
    public Map<String, Object> trainAll(Path outDir) throws IOException {
        Files.createDirectories(outDir);
        TrainingSets sets = load();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("sentiment", trainSentiment(sets, outDir));
        report.put("intent", trainIntent(sets, outDir));
        return report;
    }

    private ObjectNode header(TrainingSets sets) {
        int heldOut = sets.bitextHeldOut();
        ObjectNode header = Json.MAPPER.createObjectNode();
        header.put("trained", LocalDate.now(ZoneOffset.UTC).toString());
        header.put(
                "held_out_split",
                TrainingSplits.HELD_OUT_SEED + " <" + TrainingSplits.HELD_OUT_PERCENT + "%");
        header.put(
                "calibration_split",
                TrainingSplits.CALIBRATION_SEED + " <" + TrainingSplits.CALIBRATION_PERCENT + "%");
        header.put("bitext_held_out_rows", heldOut);
        return header;
    }

    /** Trains the sentiment model only (experiments). */
    Map<String, Object> trainSentiment(TrainingSets sets, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        List<Example> sentiment = sets.sentiment();
        ObjectNode sh = header(sets);
        sh.put(
                "data",
                VADER_TWEETS
                        + " (MIT, Hutto & Gilbert 2014); "
                        + BITEXT
                        + " training split (CDLA-Sharing-1.0, bitext); "
                        + BANKING77
                        + " (CC BY 4.0, PolyAI); weak labels per intent from"
                        + " eval/train-mappings.json; class prior (no labels) by EM on the"
                        + " customer messages of "
                        + CONVERSATIONS
                        + " (Apache-2.0, IBM)");
        return train(
                "sentiment",
                sentiment,
                e -> {
                    SentimentScores v = VADER.analyze(e.text());
                    return LearnedModels.sentimentFeatures(e.text(), v);
                },
                true,
                customerTurns(dataDir.resolve(CONVERSATIONS)),
                sh,
                outDir.resolve("sentiment-v1.json.gz"));
    }

    private Map<String, Object> trainIntent(TrainingSets sets, Path outDir) throws IOException {
        List<Example> intent = sets.intent();
        ObjectNode ih = header(sets);
        ih.put(
                "data",
                BITEXT
                        + " training split mapped by eval/bitext-intents.json (CDLA-Sharing-1.0,"
                        + " bitext); "
                        + BANKING77
                        + " categories in eval/train-mappings.json (CC BY 4.0, PolyAI)");
        return train(
                "intent",
                intent,
                e -> {
                    SentimentScores v = VADER.analyze(e.text());
                    String rule = RULES.analyze(e.text(), List.of(), v.compound()).intent();
                    return LearnedModels.intentFeatures(e.text(), v, rule);
                },
                false,
                null,
                ih,
                outDir.resolve("intent-v1.json.gz"));
    }

    /**
     * The training sets.
     *
     * @param sentiment sentiment examples (VADER tweets and weak labels)
     * @param intent intent examples (Bitext training split, BANKING77)
     * @param bitextHeldOut Bitext rows held out (never read into either set)
     */
    record TrainingSets(List<Example> sentiment, List<Example> intent, int bitextHeldOut) {}

    /** Reads the training sets from the data directory. */
    TrainingSets load() throws IOException {
        JsonNode mappings = resource("/eval/train-mappings.json");
        Map<String, String> bitextIntents = textMap(resource("/eval/bitext-intents.json"));
        Map<String, String> bankIntents = textMap(mappings.get("banking77_intent"));
        Map<String, String> bitextWeak = textMap(mappings.at("/sentiment_weak/bitext"));
        Map<String, String> bankWeak = textMap(mappings.at("/sentiment_weak/banking77"));

        List<Map<String, String>> bitext = readCsv(dataDir.resolve(BITEXT));
        List<Map<String, String>> bank = readCsv(dataDir.resolve(BANKING77));

        List<Example> sentiment =
                new ArrayList<>(
                        readVaderTweets(dataDir.resolve(VADER_TWEETS), options.neutralBand()));
        List<Example> intent = new ArrayList<>();
        int heldOut = 0;
        for (Map<String, String> r : bitext) {
            String text = r.get("instruction");
            if (text == null || text.isBlank()) {
                continue;
            }
            if (TrainingSplits.heldOut(text)) {
                heldOut++;
                continue;
            }
            addMapped(
                    text, r.get("intent"), "bitext", bitextIntents, bitextWeak, intent, sentiment);
        }
        for (Map<String, String> r : bank) {
            String text = r.get("text");
            if (text != null && !text.isBlank()) {
                addMapped(
                        text,
                        r.get("category"),
                        "banking77",
                        bankIntents,
                        bankWeak,
                        intent,
                        sentiment);
            }
        }
        return new TrainingSets(sentiment, intent, heldOut);
    }

    /** Adds a support-set row to the intent and sentiment examples its category maps to. */
    private static void addMapped(
            String text,
            String category,
            String source,
            Map<String, String> intents,
            Map<String, String> weakSentiment,
            List<Example> intent,
            List<Example> sentiment) {
        String in = intents.get(category);
        if (in != null) {
            intent.add(new Example(text, in, source));
        }
        String s = weakSentiment.get(category);
        if (s != null) {
            sentiment.add(new Example(text, s, source));
        }
    }

    /**
     * Trains one model: chooses C on the calibration part, fits the temperature there, writes the
     * model.
     *
     * @param macroF1 select C by macro-F1 (else by accuracy)
     */
    Map<String, Object> train(
            String name,
            List<Example> examples,
            Function<Example, Map<String, Double>> featurize,
            boolean macroF1,
            List<String> unlabeledTarget,
            ObjectNode header,
            Path out)
            throws IOException {
        List<Map<String, Double>> trainX = new ArrayList<>();
        List<String> trainY = new ArrayList<>();
        List<Map<String, Double>> calX = new ArrayList<>();
        List<String> calY = new ArrayList<>();
        List<String> calSource = new ArrayList<>();
        Map<String, Integer> perSource = new TreeMap<>();
        for (Example e : examples) {
            perSource.merge(e.source() + ":" + e.label(), 1, Integer::sum);
            Map<String, Double> x = featurize.apply(e);
            if (TrainingSplits.calibration(e.text())) {
                calX.add(x);
                calY.add(e.label());
                calSource.add(e.source());
            } else {
                trainX.add(x);
                trainY.add(e.label());
            }
        }
        // Vocabulary: features seen in at least two training rows.
        Map<String, Integer> counts = new HashMap<>();
        trainX.forEach(x -> x.keySet().forEach(f -> counts.merge(f, 1, Integer::sum)));
        List<String> vocab = new ArrayList<>(new TreeSet<>(counts.keySet()));
        vocab.removeIf(f -> counts.get(f) < 2);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            index.put(vocab.get(i), i + 1);
        }
        List<String> labels = new ArrayList<>(new TreeSet<>(trainY));
        Linear.disableDebugOutput();

        double bestScore = -1;
        LinearTextClassifier best = null;
        double bestC = 0;
        Map<String, Object> grid = new LinkedHashMap<>();
        for (double c : unlabeledTarget != null ? options.cGrid() : C_GRID) {
            LinearTextClassifier m = fitClassifier(trainX, trainY, labels, index, vocab, c);
            double score = score(m, calX, calY, macroF1);
            grid.put(String.valueOf(c), Scores.round(score));
            if (score > bestScore) {
                bestScore = score;
                best = m;
                bestC = c;
            }
        }
        double[][] calZ = new double[calX.size()][];
        int[] calGold = new int[calX.size()];
        double t = 0;
        LinearTextClassifier calibrated = null;
        double[] prior = null;
        int pseudoRows = 0;
        List<Map<String, Double>> targetX = new ArrayList<>();
        if (unlabeledTarget != null) {
            for (String text : unlabeledTarget) {
                targetX.add(featurize.apply(new Example(text, labels.get(0), "target")));
            }
        }
        int rounds = targetX.isEmpty() ? 0 : options.selfTrainRounds();
        for (int round = 0; round <= rounds; round++) {
            if (round > 0) {
                // Self-training: the unlabeled in-domain messages the current model labels with
                // at least the configured confidence join the training rows (C kept).
                List<Map<String, Double>> xs = new ArrayList<>(trainX);
                List<String> ys = new ArrayList<>(trainY);
                pseudoRows = 0;
                for (Map<String, Double> x : targetX) {
                    LinearTextClassifier.Prediction p = calibrated.predict(x);
                    if (p.confidence() >= options.selfTrainConfidence()) {
                        xs.add(x);
                        ys.add(p.label());
                        pseudoRows++;
                    }
                }
                best = fitClassifier(xs, ys, labels, index, vocab, bestC);
            }
            for (int i = 0; i < calX.size(); i++) {
                calZ[i] = best.scores(calX.get(i));
                calGold[i] = labels.indexOf(calY.get(i));
            }
            t = fitTemperature(calZ, calGold);
            header.put("rows_train", trainX.size());
            header.put("rows_calibration", calX.size());
            header.put("c", bestC);
            header.put("temperature", t);
            calibrated = best.withTemperature(t, header);
            if (!targetX.isEmpty()) {
                // Class-balanced training means a uniform training prior; support traffic is not
                // uniform. Estimate its prior without labels (EM, Saerens et al. 2002) and fold
                // T · log(prior_c · K) into the biases.
                List<double[]> post = new ArrayList<>();
                for (Map<String, Double> x : targetX) {
                    post.add(LinearTextClassifier.softmax(calibrated.scores(x), t));
                }
                prior = emPrior(post, labels.size());
                double[] bias = calibrated.scores(Map.of());
                ArrayNode pn = header.putArray("prior");
                for (int k = 0; k < bias.length; k++) {
                    bias[k] += t * Math.log(prior[k] * labels.size());
                    bias[k] += options.biasOffsets().getOrDefault(labels.get(k), 0.0);
                    pn.add(Scores.round(prior[k]));
                }
                header.put("prior_rows", unlabeledTarget.size());
                if (rounds > 0) {
                    header.put("self_training_rows", pseudoRows);
                }
                calibrated = calibrated.withBias(bias, header);
            }
        }
        double tOut = t;
        if (!targetX.isEmpty()) {
            // The temperature above is fitted on every calibration row, most of them templated
            // support requests the model separates almost perfectly, so its probabilities are
            // too sure on real short messages. The answer's confidence uses the temperature
            // fitted on the calibration rows that are real social-media text (the VADER tweets),
            // same pre-prior scores; the biases stay as folded, so no decision changes.
            List<double[]> z = new ArrayList<>();
            List<Integer> gold = new ArrayList<>();
            for (int i = 0; i < calX.size(); i++) {
                if (OUTPUT_TEMPERATURE_SOURCE.equals(calSource.get(i))) {
                    z.add(calZ[i]);
                    gold.add(calGold[i]);
                }
            }
            if (!z.isEmpty()) {
                tOut =
                        fitTemperature(
                                z.toArray(new double[0][]),
                                gold.stream().mapToInt(Integer::intValue).toArray());
                header.put("temperature_decisions", t);
                header.put("temperature", tOut);
                header.put("temperature_rows", z.size());
                calibrated = calibrated.withTemperature(tOut, header);
            }
        }
        write(calibrated, out);

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("rows_train", trainX.size());
        r.put("rows_calibration", calX.size());
        r.put("rows_per_source_label", perSource);
        r.put("labels", labels);
        r.put("vocabulary", vocab.size());
        r.put("features_written", calibrated.featureCount());
        r.put("c_grid_calibration_" + (macroF1 ? "macro_f1" : "accuracy"), grid);
        r.put("c", bestC);
        r.put("temperature", Scores.round(tOut));
        if (tOut != t) {
            r.put("temperature_decisions", Scores.round(t));
        }
        if (rounds > 0) {
            r.put("self_training_rounds", rounds);
            r.put("self_training_rows", pseudoRows);
        }
        r.put("calibration_nll_t1", Scores.round(nll(calZ, calGold, 1.0)));
        r.put("calibration_nll", Scores.round(nll(calZ, calGold, t)));
        if (prior != null) {
            Map<String, Object> pm = new LinkedHashMap<>();
            for (int k = 0; k < prior.length; k++) {
                pm.put(labels.get(k), Scores.round(prior[k]));
            }
            r.put("target_prior", pm);
            r.put("target_prior_rows", unlabeledTarget.size());
        }
        r.put("model", out.toString());
        r.put("model_bytes", Files.size(out));
        if (log != null) {
            log.printf(
                    "%s: %d train / %d calibration rows, %d features, C %s, T %.3f (answers %.3f),"
                            + " calibration %s %.3f, %d bytes%n",
                    name,
                    trainX.size(),
                    calX.size(),
                    calibrated.featureCount(),
                    bestC,
                    t,
                    tOut,
                    macroF1 ? "macro-F1" : "accuracy",
                    bestScore,
                    Files.size(out));
        }
        return r;
    }

    /** Fits one class-balanced one-vs-rest L2 logistic regression with regularisation {@code c}. */
    private static LinearTextClassifier fitClassifier(
            List<Map<String, Double>> xs,
            List<String> ys,
            List<String> labels,
            Map<String, Integer> index,
            List<String> vocab,
            double c) {
        return toClassifier(
                fit(problem(xs, ys, labels, index), ys, labels, c), labels, vocab, 1.0, null);
    }

    private static Problem problem(
            List<Map<String, Double>> xs,
            List<String> ys,
            List<String> labels,
            Map<String, Integer> index) {
        Problem p = new Problem();
        p.l = xs.size();
        p.n = index.size() + 1;
        p.bias = 1;
        p.x = new Feature[xs.size()][];
        p.y = new double[xs.size()];
        for (int i = 0; i < xs.size(); i++) {
            TreeMap<Integer, Double> row = new TreeMap<>();
            xs.get(i)
                    .forEach(
                            (f, v) -> {
                                Integer k = index.get(f);
                                if (k != null && v != 0) {
                                    row.put(k, v);
                                }
                            });
            Feature[] fs = new Feature[row.size() + 1];
            int j = 0;
            for (Map.Entry<Integer, Double> e : row.entrySet()) {
                fs[j++] = new FeatureNode(e.getKey(), e.getValue());
            }
            fs[j] = new FeatureNode(p.n, 1.0);
            p.x[i] = fs;
            p.y[i] = labels.indexOf(ys.get(i));
        }
        return p;
    }

    private static Model fit(Problem prob, List<String> ys, List<String> labels, double c) {
        Parameter param = new Parameter(SolverType.L2R_LR, c, 0.001);
        int[] ids = new int[labels.size()];
        double[] w = new double[labels.size()];
        for (int k = 0; k < labels.size(); k++) {
            String l = labels.get(k);
            long n = ys.stream().filter(l::equals).count();
            ids[k] = k;
            w[k] = (double) ys.size() / (labels.size() * Math.max(1, n));
        }
        param.setWeights(w, ids);
        return Linear.train(prob, param);
    }

    /** liblinear's weights (feature-major, classes in model order) as our classifier. */
    static LinearTextClassifier toClassifier(
            Model m, List<String> labels, List<String> vocab, double t, JsonNode header) {
        int[] order = m.getLabels();
        int nrClass = m.getNrClass();
        int nrW = nrClass == 2 ? 1 : nrClass;
        double[] w = m.getFeatureWeights();
        int n = vocab.size() + 1;
        Map<String, float[]> weights = new HashMap<>();
        double[] bias = new double[labels.size()];
        for (int f = 0; f < n; f++) {
            float[] v = new float[labels.size()];
            boolean any = false;
            for (int k = 0; k < nrW; k++) {
                double x = w[f * nrW + k];
                v[order[k]] = (float) x;
                any |= Math.abs(x) >= 1e-4;
            }
            if (nrW == 1) {
                // Two classes: z(first) = w·x, z(second) = 0.
                v[order[1]] = 0f;
            }
            if (f == n - 1) {
                for (int k = 0; k < v.length; k++) {
                    bias[k] = v[k];
                }
            } else if (any) {
                weights.put(vocab.get(f), v);
            }
        }
        return new LinearTextClassifier(labels, t, bias, weights, header);
    }

    private static double score(
            LinearTextClassifier m,
            List<Map<String, Double>> xs,
            List<String> ys,
            boolean macroF1) {
        Map<String, Scores.Counts> per = new TreeMap<>();
        m.labels().forEach(l -> per.put(l, new Scores.Counts()));
        int ok = 0;
        for (int i = 0; i < xs.size(); i++) {
            String p = m.predict(xs.get(i)).label();
            String g = ys.get(i);
            if (p.equals(g)) {
                ok++;
                per.get(g).add(1, 0, 0);
            } else {
                per.get(g).add(0, 0, 1);
                per.get(p).add(0, 1, 0);
            }
        }
        return macroF1 ? Scores.macroF1(per) : xs.isEmpty() ? 0 : (double) ok / xs.size();
    }

    /**
     * The class prior of unlabeled data by EM on a calibrated model's posteriors, trained under a
     * uniform prior (Saerens, Latinne &amp; Decaestecker 2002): {@code π ← mean_i normalise(p_i · π
     * · K)}, 100 rounds from uniform.
     *
     * @param posteriors per unlabeled row the model's probabilities
     * @param k number of classes
     */
    static double[] emPrior(List<double[]> posteriors, int k) {
        double[] prior = new double[k];
        java.util.Arrays.fill(prior, 1.0 / k);
        for (int round = 0; round < 100; round++) {
            double[] sum = new double[k];
            for (double[] p : posteriors) {
                double z = 0;
                double[] q = new double[k];
                for (int c = 0; c < k; c++) {
                    q[c] = p[c] * prior[c] * k;
                    z += q[c];
                }
                for (int c = 0; c < k; c++) {
                    sum[c] += q[c] / z;
                }
            }
            for (int c = 0; c < k; c++) {
                prior[c] = sum[c] / posteriors.size();
            }
        }
        return prior;
    }

    /** Mean negative log-likelihood of the gold labels under softmax(z / t). */
    static double nll(double[][] z, int[] gold, double t) {
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            double[] p = LinearTextClassifier.softmax(z[i], t);
            sum -= Math.log(Math.max(1e-12, p[gold[i]]));
        }
        return z.length == 0 ? 0 : sum / z.length;
    }

    /** Temperature minimising the NLL, golden-section search on log t in [-3, 3]. */
    static double fitTemperature(double[][] z, int[] gold) {
        double a = -3;
        double b = 3;
        double g = (Math.sqrt(5) - 1) / 2;
        double c = b - g * (b - a);
        double d = a + g * (b - a);
        for (int i = 0; i < 80; i++) {
            if (nll(z, gold, Math.exp(c)) < nll(z, gold, Math.exp(d))) {
                b = d;
            } else {
                a = c;
            }
            c = b - g * (b - a);
            d = a + g * (b - a);
        }
        return Math.exp((a + b) / 2);
    }

    private static void write(LinearTextClassifier m, Path out) throws IOException {
        try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(out))) {
            os.write(Json.MAPPER.writeValueAsBytes(m.toJson()));
        }
    }

    private static List<Example> readVaderTweets(Path file, double band) throws IOException {
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = r.readLine();
            TrainingSplits.requireTrainable(file, first);
            for (String line = first; line != null; line = r.readLine()) {
                String[] p = line.split("\t", 3);
                if (p.length < 3) {
                    continue;
                }
                double rating = Double.parseDouble(p[1]);
                String label = rating > band ? "positive" : rating < -band ? "negative" : "neutral";
                out.add(new Example(p[2], label, "vader"));
            }
        }
        return out;
    }

    /** The customers' messages of a conversations file (JSON lines), or none if it is missing. */
    static List<String> customerTurns(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        TrainingSplits.requireTrainable(file, "");
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = Json.MAPPER.readTree(line);
            if ("customer".equals(n.path("sender").asText())) {
                out.add(n.path("message").asText());
            }
        }
        return out;
    }

    /** {@link Evaluator#readCsv}, refusing data the project may not train on. */
    static List<Map<String, String>> readCsv(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            TrainingSplits.requireTrainable(file, r.readLine());
        }
        return Evaluator.readCsv(file);
    }

    /** A JSON resource of the classpath; {@link IOException} when it is missing. */
    static JsonNode resource(String name) throws IOException {
        try (InputStream in = ModelTrainer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("resource " + name + " not found");
            }
            return Json.MAPPER.readTree(in);
        }
    }

    /** The string fields of a JSON object, keys starting with {@code _} (comments) left out. */
    static Map<String, String> textMap(JsonNode n) {
        Map<String, String> m = new TreeMap<>();
        n.fields()
                .forEachRemaining(
                        e -> {
                            if (!e.getKey().startsWith("_")) {
                                m.put(e.getKey(), e.getValue().asText());
                            }
                        });
        return m;
    }
}

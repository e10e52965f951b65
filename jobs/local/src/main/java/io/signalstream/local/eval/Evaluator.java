package io.signalstream.local.eval;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.local.PiiNameFinder;
import io.signalstream.events.AgentResult;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.functions.AgentProviders;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Scores an agent provider on labelled data in the formats under {@code shared/data/}:
 *
 * <ul>
 *   <li>pii: Presidio-style JSON ({@code full_text, spans[{entity_type, start_position,
 *       end_position}]}); precision / recall / F1 per entity type and micro, with exact and
 *       overlapping span matching (one-to-one, same type), on the full set and ({@code held_out})
 *       on the 30% the PII name finder never trained on ({@link PiiSplit}), there also per type at
 *       confidence thresholds
 *   <li>sentiment: CSV with {@code text} and {@code airline_sentiment}; accuracy and macro-F1
 *   <li>intent: Bitext CSV with {@code instruction} and {@code intent}; accuracy after mapping
 *       Bitext intents to ours ({@code eval/bitext-intents.json}), over all rows and over the rows
 *       held out of {@code eval train} ({@link TrainingSplits#heldOut}, {@code held_out})
 *   <li>summary: TweetSumm JSON lines ({@code turns[{sender, message}], abstractive_summaries[]});
 *       ROUGE-1/2/L F-measure against the best-matching reference, averaged over dialogues
 * </ul>
 *
 * Sentiment and intent (held-out rows) also report the calibration of the answers' {@code
 * confidence} ({@link Scores#calibration}: reliability bins, ECE, accuracy and coverage at
 * thresholds 0.5…0.95).
 *
 * <p>Each record is sent through the provider's {@code analyze} as a one-message (or, for
 * summaries, whole-dialogue) conversation snapshot, with up to {@code concurrency} calls in flight.
 */
public final class Evaluator implements AutoCloseable {

    private final String providerName;
    private final AgentProvider provider;
    private final int concurrency;
    private final Duration callTimeout;
    private final PrintStream progress;
    private int errors;

    /**
     * @param providerName {@code local} or a provider configured in {@code conf}
     * @param conf job configuration (provider settings)
     * @param concurrency calls in flight
     * @param progress where to print progress lines, or null
     * @throws IllegalArgumentException for an unknown or misconfigured provider
     */
    public Evaluator(
            String providerName, Configuration conf, int concurrency, PrintStream progress) {
        this.providerName = providerName;
        // No fallback: the report must score this provider, not the one behind it.
        this.provider =
                AgentProviders.create(
                        new AgentSpec(
                                "eval",
                                AgentTrigger.parse("every-message", 1, Duration.ofMinutes(5)),
                                providerName,
                                providerName),
                        conf);
        this.concurrency = Math.max(1, concurrency);
        this.callTimeout = conf.get(io.signalstream.config.AgentOptions.TIMEOUT).plusSeconds(5);
        this.progress = progress;
    }

    /**
     * Runs one task.
     *
     * @param task {@code pii}, {@code sentiment}, {@code intent} or {@code summary}
     * @param data the labelled file
     * @param limit at most this many records (0 = all)
     * @return the report: {@code task, provider, data, records, errors, elapsed_s} and the task's
     *     scores
     * @throws IllegalArgumentException for an unknown task
     * @throws IOException if the file cannot be read
     */
    public Map<String, Object> run(String task, Path data, int limit) throws IOException {
        long start = System.nanoTime();
        errors = 0;
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("task", task);
        report.put("provider", providerName);
        report.put("data", data.toString());
        Map<String, Object> scores =
                switch (task) {
                    case "pii" -> pii(data, limit);
                    case "sentiment" -> sentiment(data, limit);
                    case "intent" -> intent(data, limit);
                    case "summary" -> summary(data, limit);
                    default ->
                            throw new IllegalArgumentException(
                                    "unknown task '"
                                            + task
                                            + "': use pii, sentiment, intent or summary");
                };
        report.putAll(scores);
        report.put("errors", errors);
        report.put("elapsed_s", Scores.round((System.nanoTime() - start) / 1e9));
        return report;
    }

    private Map<String, Object> pii(Path data, int limit) throws IOException {
        JsonNode all = Json.MAPPER.readTree(data.toFile());
        List<JsonNode> records = limit(iterable(all), limit);
        List<ConversationSnapshot> snaps = new ArrayList<>();
        for (JsonNode r : records) {
            snaps.add(
                    snapshot(
                            List.<String[]>of(
                                    new String[] {"customer", r.get("full_text").asText()})));
        }
        List<AgentResult> results = analyzeAll("pii", snaps);
        List<Integer> every = new ArrayList<>();
        List<Integer> heldOut = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            every.add(i);
            if (PiiSplit.isHeldOut(records.get(i).get("full_text").asText())) {
                heldOut.add(i);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("records", records.size());
        out.putAll(piiScores(records, results, every, 0.0));
        // The learned recognizers (PERSON, STREET_ADDRESS, GPE) were fitted and calibrated on the
        // other 70% (PiiSplit): only this part says how they generalise.
        Map<String, Object> held = new LinkedHashMap<>();
        held.put("records", heldOut.size());
        held.put("split", "sha-256 of the text, seed " + PiiSplit.SEED);
        held.putAll(piiScores(records, results, heldOut, 0.0));
        Map<String, Object> atConfidence = new LinkedHashMap<>();
        for (double th : new double[] {0.6, 0.7, 0.8, 0.9}) {
            atConfidence.put(
                    String.valueOf(th), piiScores(records, results, heldOut, th).get("per_type"));
        }
        held.put("at_confidence", atConfidence);
        out.put("held_out", held);
        return out;
    }

    /**
     * Exact and overlap scores of the records {@code indices}, counting only predictions whose
     * {@code confidence} (else {@code score}) is at least {@code minScore}; with {@code minScore} 0
     * also the reliability of those confidences ({@code calibration}, {@link Scores#calibration}: a
     * finding is right when it overlaps a gold span of its type).
     */
    private static Map<String, Object> piiScores(
            List<JsonNode> records,
            List<AgentResult> results,
            List<Integer> indices,
            double minScore) {
        Map<String, Scores.Counts> exact = new TreeMap<>();
        Map<String, Scores.Counts> overlap = new TreeMap<>();
        Scores.Counts exactMicro = new Scores.Counts();
        Scores.Counts overlapMicro = new Scores.Counts();
        Map<String, int[]> redaction = new TreeMap<>();
        List<Double> confidence = new ArrayList<>();
        List<Boolean> right = new ArrayList<>();
        for (int i : indices) {
            List<int[]> gold = new ArrayList<>();
            List<String> goldTypes = new ArrayList<>();
            for (JsonNode s : records.get(i).path("spans")) {
                goldTypes.add(s.get("entity_type").asText());
                gold.add(
                        new int[] {s.get("start_position").asInt(), s.get("end_position").asInt()});
            }
            List<int[]> pred = new ArrayList<>();
            List<String> predTypes = new ArrayList<>();
            AgentResult r = results.get(i);
            if (r != null) {
                for (JsonNode e :
                        Json.MAPPER.valueToTree(r.result().getOrDefault("entities", List.of()))) {
                    double c = e.path("confidence").asDouble(e.path("score").asDouble(1.0));
                    if (c < minScore) {
                        continue;
                    }
                    String type = e.get("type").asText();
                    int[] span = {e.get("start").asInt(), e.get("end").asInt()};
                    predTypes.add(type);
                    pred.add(span);
                    // Only a calibrated confidence enters the reliability table (an LLM's
                    // entities carry a score only); Scores.calibration skips nulls.
                    confidence.add(e.has("confidence") ? e.get("confidence").asDouble() : null);
                    // Judged as each recognizer was calibrated: the learned types by exact
                    // span, the validated ones by overlap (PiiNerTrainer).
                    boolean exactSpan = PiiNameFinder.TYPES.contains(type);
                    boolean hit = false;
                    for (int g = 0; g < gold.size() && !hit; g++) {
                        int[] a = gold.get(g);
                        hit =
                                goldTypes.get(g).equals(type)
                                        && (exactSpan
                                                ? a[0] == span[0] && a[1] == span[1]
                                                : a[0] < span[1] && span[0] < a[1]);
                    }
                    right.add(hit);
                }
            }
            match(gold, goldTypes, pred, predTypes, true, exact, exactMicro);
            match(gold, goldTypes, pred, predTypes, false, overlap, overlapMicro);
            for (int p = 0; p < pred.size(); p++) {
                int[] b = pred.get(p);
                boolean onPii = gold.stream().anyMatch(a -> a[0] < b[1] && b[0] < a[1]);
                int[] c = onPii(redaction, predTypes.get(p));
                c[0] += onPii ? 1 : 0;
                c[1]++;
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("per_type", toMaps(exact));
        out.put("micro", exactMicro.toMap());
        Map<String, Object> ov = new LinkedHashMap<>();
        ov.put("per_type", toMaps(overlap));
        ov.put("micro", overlapMicro.toMap());
        out.put("overlap", ov);
        // Share of each type's findings that cover some gold PII span of any type: what a
        // redaction hides that was PII after all (a city inside a labelled address counts).
        Map<String, Object> red = new TreeMap<>();
        redaction.forEach(
                (t, c) ->
                        red.put(
                                t,
                                Map.of(
                                        "on_pii",
                                        c[0],
                                        "found",
                                        c[1],
                                        "share",
                                        Scores.round((double) c[0] / c[1]))));
        out.put("redaction_precision", red);
        if (minScore == 0.0) {
            out.put("calibration", Scores.calibration(confidence, right));
        }
        return out;
    }

    private static int[] onPii(Map<String, int[]> counts, String type) {
        return counts.computeIfAbsent(type, t -> new int[2]);
    }

    /** One-to-one greedy matching of predicted to gold spans of the same type. */
    private static void match(
            List<int[]> gold,
            List<String> goldTypes,
            List<int[]> pred,
            List<String> predTypes,
            boolean exact,
            Map<String, Scores.Counts> perType,
            Scores.Counts micro) {
        boolean[] used = new boolean[gold.size()];
        for (int p = 0; p < pred.size(); p++) {
            int hit = -1;
            for (int g = 0; g < gold.size() && hit < 0; g++) {
                if (used[g] || !goldTypes.get(g).equals(predTypes.get(p))) {
                    continue;
                }
                int[] a = gold.get(g);
                int[] b = pred.get(p);
                boolean ok = exact ? a[0] == b[0] && a[1] == b[1] : a[0] < b[1] && b[0] < a[1];
                if (ok) {
                    hit = g;
                }
            }
            Scores.Counts c = perType.computeIfAbsent(predTypes.get(p), t -> new Scores.Counts());
            if (hit >= 0) {
                used[hit] = true;
                c.add(1, 0, 0);
                micro.add(1, 0, 0);
            } else {
                c.add(0, 1, 0);
                micro.add(0, 1, 0);
            }
        }
        for (int g = 0; g < gold.size(); g++) {
            if (!used[g]) {
                perType.computeIfAbsent(goldTypes.get(g), t -> new Scores.Counts()).add(0, 0, 1);
                micro.add(0, 0, 1);
            }
        }
    }

    private Map<String, Object> sentiment(Path data, int limit) throws IOException {
        List<Map<String, String>> rows = limit(readCsv(data), limit);
        List<ConversationSnapshot> snaps = new ArrayList<>();
        for (Map<String, String> r : rows) {
            snaps.add(snapshot(List.<String[]>of(new String[] {"customer", r.get("text")})));
        }
        List<AgentResult> results = analyzeAll("sentiment", snaps);
        Map<String, Object> out = sentimentScores(rows, results, r -> true);
        // DEV / TEST halves by a hash of tweet_id: design choices of the learned model are made
        // on DEV only, TEST is the figure that counts.
        if (!rows.isEmpty() && rows.get(0).containsKey("tweet_id")) {
            out.put(
                    "dev",
                    sentimentScores(
                            rows, results, r -> TrainingSplits.airlineDev(r.get("tweet_id"))));
            out.put(
                    "test",
                    sentimentScores(
                            rows, results, r -> !TrainingSplits.airlineDev(r.get("tweet_id"))));
        }
        return out;
    }

    private static Map<String, Object> sentimentScores(
            List<Map<String, String>> rows,
            List<AgentResult> results,
            java.util.function.Predicate<Map<String, String>> keep) {
        Map<String, Scores.Counts> perClass = new TreeMap<>();
        for (String label : List.of("negative", "neutral", "positive")) {
            perClass.put(label, new Scores.Counts());
        }
        int correct = 0;
        int n = 0;
        List<Double> confidence = new ArrayList<>();
        List<Boolean> right = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            if (!keep.test(rows.get(i))) {
                continue;
            }
            n++;
            String gold = rows.get(i).get("airline_sentiment");
            String pred =
                    results.get(i) == null
                            ? "none"
                            : String.valueOf(results.get(i).result().get("label"));
            confidence.add(confidence(results.get(i)));
            right.add(gold.equals(pred));
            if (gold.equals(pred)) {
                correct++;
                perClass.computeIfAbsent(gold, k -> new Scores.Counts()).add(1, 0, 0);
            } else {
                perClass.computeIfAbsent(gold, k -> new Scores.Counts()).add(0, 0, 1);
                perClass.computeIfAbsent(pred, k -> new Scores.Counts()).add(0, 1, 0);
            }
        }
        perClass.remove("none");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("records", n);
        out.put("accuracy", Scores.round(n == 0 ? 0 : (double) correct / n));
        out.put("macro_f1", Scores.round(Scores.macroF1(perClass)));
        out.put("per_class", toMaps(perClass));
        out.put("calibration", Scores.calibration(confidence, right));
        return out;
    }

    private Map<String, Object> intent(Path data, int limit) throws IOException {
        Map<String, String> mapping = bitextMapping();
        List<Map<String, String>> rows = limit(readCsv(data), limit);
        List<ConversationSnapshot> snaps = new ArrayList<>();
        for (Map<String, String> r : rows) {
            snaps.add(snapshot(List.<String[]>of(new String[] {"customer", r.get("instruction")})));
        }
        List<AgentResult> results = analyzeAll("insights", snaps);
        int correct = 0;
        int unmapped = 0;
        int heldOut = 0;
        int heldOutCorrect = 0;
        Map<String, int[]> perIntent = new TreeMap<>();
        List<Double> confidence = new ArrayList<>();
        List<Boolean> right = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            String want = mapping.get(rows.get(i).get("intent"));
            if (want == null) {
                unmapped++;
                continue;
            }
            boolean ok =
                    results.get(i) != null && want.equals(results.get(i).result().get("intent"));
            if (TrainingSplits.heldOut(rows.get(i).get("instruction"))) {
                heldOut++;
                heldOutCorrect += ok ? 1 : 0;
                confidence.add(confidence(results.get(i)));
                right.add(ok);
            }
            int[] c = perIntent.computeIfAbsent(want, k -> new int[2]);
            c[1]++;
            if (ok) {
                correct++;
                c[0]++;
            }
        }
        Map<String, Object> per = new TreeMap<>();
        perIntent.forEach(
                (k, c) ->
                        per.put(
                                k,
                                Map.of(
                                        "accuracy",
                                        Scores.round((double) c[0] / c[1]),
                                        "support",
                                        c[1])));
        int scored = rows.size() - unmapped;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("records", rows.size());
        out.put("accuracy", Scores.round(scored == 0 ? 0 : (double) correct / scored));
        out.put("unmapped", unmapped);
        out.put("per_intent", per);
        // The rows eval train never reads (30% by text hash): the figure that counts for a
        // trained model; its calibration too.
        Map<String, Object> held = new LinkedHashMap<>();
        held.put("records", heldOut);
        held.put("accuracy", Scores.round(heldOut == 0 ? 0 : (double) heldOutCorrect / heldOut));
        held.put("calibration", Scores.calibration(confidence, right));
        out.put("held_out", held);
        return out;
    }

    private Map<String, Object> summary(Path data, int limit) throws IOException {
        List<JsonNode> dialogues = new ArrayList<>();
        for (String line : Files.readAllLines(data)) {
            if (!line.isBlank()) {
                dialogues.add(Json.MAPPER.readTree(line));
            }
        }
        dialogues = limit(dialogues, limit);
        List<ConversationSnapshot> snaps = new ArrayList<>();
        for (JsonNode d : dialogues) {
            List<String[]> turns = new ArrayList<>();
            for (JsonNode t : d.path("turns")) {
                turns.add(new String[] {t.path("sender").asText(), t.path("message").asText()});
            }
            snaps.add(snapshot(turns));
        }
        List<AgentResult> results = analyzeAll("summary", snaps);
        double r1 = 0;
        double r2 = 0;
        double rl = 0;
        for (int i = 0; i < dialogues.size(); i++) {
            AgentResult r = results.get(i);
            List<String> cand =
                    Scores.tokens(r == null ? "" : String.valueOf(r.result().get("summary")));
            double b1 = 0;
            double b2 = 0;
            double bl = 0;
            for (JsonNode ref : dialogues.get(i).path("abstractive_summaries")) {
                List<String> refTokens = Scores.tokens(ref.isArray() ? join(ref) : ref.asText());
                b1 = Math.max(b1, Scores.rougeN(cand, refTokens, 1));
                b2 = Math.max(b2, Scores.rougeN(cand, refTokens, 2));
                bl = Math.max(bl, Scores.rougeL(cand, refTokens));
            }
            r1 += b1;
            r2 += b2;
            rl += bl;
        }
        int n = Math.max(1, dialogues.size());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("records", dialogues.size());
        out.put("rouge1", Scores.round(r1 / n));
        out.put("rouge2", Scores.round(r2 / n));
        out.put("rouge_l", Scores.round(rl / n));
        return out;
    }

    /** The answer's {@code confidence}, or null without an answer or a confidence. */
    private static Double confidence(AgentResult r) {
        if (r == null) {
            return null;
        }
        Object c = r.result().get("confidence");
        return c instanceof Number n ? n.doubleValue() : null;
    }

    private static String join(JsonNode array) {
        StringBuilder sb = new StringBuilder();
        array.forEach(x -> sb.append(x.asText()).append(' '));
        return sb.toString();
    }

    /** Calls the provider for every snapshot, {@code concurrency} at a time; null on failure. */
    private List<AgentResult> analyzeAll(String agent, List<ConversationSnapshot> snaps) {
        List<AgentResult> out = new ArrayList<>(snaps.size());
        Deque<CompletableFuture<AgentResult>> window = new ArrayDeque<>();
        long lastPrint = System.nanoTime();
        for (int i = 0; i < snaps.size(); i++) {
            window.add(provider.analyze(agent, snaps.get(i)));
            if (window.size() >= concurrency) {
                out.add(await(window.poll()));
            }
            if (progress != null && System.nanoTime() - lastPrint > 5_000_000_000L) {
                progress.printf("  %s: %d/%d%n", agent, i + 1, snaps.size());
                lastPrint = System.nanoTime();
            }
        }
        while (!window.isEmpty()) {
            out.add(await(window.poll()));
        }
        return out;
    }

    private AgentResult await(CompletableFuture<AgentResult> f) {
        try {
            AgentResult r = f.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (r.hasAnswer()) {
                return r;
            }
        } catch (Exception e) {
            // counted below
        }
        errors++;
        return null;
    }

    private static ConversationSnapshot snapshot(List<String[]> turns) {
        List<TranscriptEntry> entries = new ArrayList<>();
        Instant t = Instant.parse("2024-01-01T00:00:00Z");
        for (int i = 0; i < turns.size(); i++) {
            entries.add(
                    new TranscriptEntry(
                            "e" + i, turns.get(i)[0], turns.get(i)[1], t.plusSeconds(60L * i)));
        }
        TranscriptEntry last = entries.get(entries.size() - 1);
        return new ConversationSnapshot(
                "eval",
                "eval",
                entries.size(),
                entries.size(),
                last,
                entries,
                t,
                last.timestamp(),
                List.of(),
                new SourceRef("eval", 0, 0));
    }

    /** The rows of a CSV file with a header line, as column → value maps. */
    static List<Map<String, String>> readCsv(Path file) throws IOException {
        CsvMapper csv = new CsvMapper();
        try (MappingIterator<Map<String, String>> it =
                csv.readerFor(Map.class)
                        .with(CsvSchema.emptySchema().withHeader())
                        .readValues(file.toFile())) {
            return it.readAll();
        }
    }

    private static Map<String, String> bitextMapping() throws IOException {
        return ModelTrainer.textMap(ModelTrainer.resource("/eval/bitext-intents.json"));
    }

    private static List<JsonNode> iterable(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private static <T> List<T> limit(List<T> all, int limit) {
        return limit > 0 && limit < all.size() ? all.subList(0, limit) : all;
    }

    private static Map<String, Object> toMaps(Map<String, Scores.Counts> counts) {
        Map<String, Object> m = new TreeMap<>();
        counts.forEach((k, v) -> m.put(k, v.toMap()));
        return m;
    }

    @Override
    public void close() {
        provider.close();
    }
}

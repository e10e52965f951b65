package io.signalstream.local.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The scores of the evaluation reports: precision / recall / F1 counts, macro-F1, and ROUGE-N and
 * ROUGE-L F-measures (Lin, 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", ACL
 * Workshop on Text Summarization Branches Out).
 */
public final class Scores {

    private Scores() {}

    /** True positives, false positives and false negatives of one class. */
    public static final class Counts {
        long tp;
        long fp;
        long fn;

        /** Adds the outcome of one item. */
        public void add(long truePositives, long falsePositives, long falseNegatives) {
            tp += truePositives;
            fp += falsePositives;
            fn += falseNegatives;
        }

        /** tp / (tp + fp), 0 when nothing was predicted. */
        public double precision() {
            return tp + fp == 0 ? 0 : (double) tp / (tp + fp);
        }

        /** tp / (tp + fn), 0 when there was nothing to find. */
        public double recall() {
            return tp + fn == 0 ? 0 : (double) tp / (tp + fn);
        }

        /** Harmonic mean of precision and recall. */
        public double f1() {
            double p = precision();
            double r = recall();
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }

        /** Gold items of the class: tp + fn. */
        public long support() {
            return tp + fn;
        }

        /** {@code {precision, recall, f1, support}}, rounded to 4 decimals. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("precision", round(precision()));
            m.put("recall", round(recall()));
            m.put("f1", round(f1()));
            m.put("support", support());
            return m;
        }
    }

    /** Macro-F1: the unweighted mean of the classes' F1. */
    public static double macroF1(Map<String, Counts> perClass) {
        return perClass.values().stream().mapToDouble(Counts::f1).average().orElse(0);
    }

    /** Lower-cased word tokens (letters and digits), the tokenisation of the ROUGE scores. */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        for (String t : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * ROUGE-N F-measure: clipped n-gram overlap between candidate and reference.
     *
     * @param n the n-gram size (1 or 2 in the reports)
     */
    public static double rougeN(List<String> candidate, List<String> reference, int n) {
        Map<String, Integer> ref = ngrams(reference, n);
        Map<String, Integer> cand = ngrams(candidate, n);
        int overlap = 0;
        for (Map.Entry<String, Integer> e : cand.entrySet()) {
            overlap += Math.min(e.getValue(), ref.getOrDefault(e.getKey(), 0));
        }
        int candTotal = Math.max(0, candidate.size() - n + 1);
        int refTotal = Math.max(0, reference.size() - n + 1);
        return fMeasure(overlap, candTotal, refTotal);
    }

    /** ROUGE-L F-measure: longest common subsequence of the token lists. */
    public static double rougeL(List<String> candidate, List<String> reference) {
        int[][] dp = new int[candidate.size() + 1][reference.size() + 1];
        for (int i = 1; i <= candidate.size(); i++) {
            for (int j = 1; j <= reference.size(); j++) {
                dp[i][j] =
                        candidate.get(i - 1).equals(reference.get(j - 1))
                                ? dp[i - 1][j - 1] + 1
                                : Math.max(dp[i - 1][j], dp[i][j - 1]);
            }
        }
        return fMeasure(dp[candidate.size()][reference.size()], candidate.size(), reference.size());
    }

    private static double fMeasure(int overlap, int candTotal, int refTotal) {
        if (overlap == 0 || candTotal == 0 || refTotal == 0) {
            return 0;
        }
        double p = (double) overlap / candTotal;
        double r = (double) overlap / refTotal;
        return 2 * p * r / (p + r);
    }

    private static Map<String, Integer> ngrams(List<String> tokens, int n) {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            m.merge(String.join(" ", tokens.subList(i, i + n)), 1, Integer::sum);
        }
        return m;
    }

    /** Confidence thresholds of the coverage table: 0.50, 0.55, ..., 0.95. */
    public static final double[] THRESHOLDS = {
        0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95
    };

    /**
     * Calibration of answers with a {@code confidence}: reliability bins, expected calibration
     * error and accuracy/coverage at each threshold of {@link #THRESHOLDS}.
     *
     * @param confidence per record its confidence in [0, 1], or null when the answer had none (or
     *     there was no answer)
     * @param correct per record whether the answer was right (same length)
     * @return {@code with_confidence} (records with one), {@code ece} (Σ over 10 equal-width bins
     *     of |bin| / n · |accuracy - mean confidence|), {@code reliability} (per non-empty bin:
     *     {@code bin, count, mean_confidence, accuracy}) and {@code thresholds} (per threshold t:
     *     {@code threshold, coverage} = share of all records answered with confidence ≥ t, {@code
     *     accuracy} among those, {@code answered})
     * @throws IllegalArgumentException if the lists differ in length
     */
    public static Map<String, Object> calibration(List<Double> confidence, List<Boolean> correct) {
        if (confidence.size() != correct.size()) {
            throw new IllegalArgumentException("confidence and correct differ in length");
        }
        int bins = 10;
        int[] n = new int[bins];
        int[] ok = new int[bins];
        double[] sum = new double[bins];
        int with = 0;
        for (int i = 0; i < confidence.size(); i++) {
            Double c = confidence.get(i);
            if (c == null) {
                continue;
            }
            with++;
            int b = Math.min(bins - 1, Math.max(0, (int) Math.floor(c * bins)));
            n[b]++;
            sum[b] += c;
            if (correct.get(i)) {
                ok[b]++;
            }
        }
        double ece = 0;
        List<Map<String, Object>> rel = new java.util.ArrayList<>();
        for (int b = 0; b < bins; b++) {
            if (n[b] == 0) {
                continue;
            }
            double acc = (double) ok[b] / n[b];
            double mean = sum[b] / n[b];
            ece += (double) n[b] / with * Math.abs(acc - mean);
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("bin", round((double) b / bins) + "-" + round((double) (b + 1) / bins));
            m.put("count", n[b]);
            m.put("mean_confidence", round(mean));
            m.put("accuracy", round(acc));
            rel.add(m);
        }
        List<Map<String, Object>> th = new java.util.ArrayList<>();
        for (double t : THRESHOLDS) {
            int answered = 0;
            int right = 0;
            for (int i = 0; i < confidence.size(); i++) {
                Double c = confidence.get(i);
                if (c != null && c >= t) {
                    answered++;
                    if (correct.get(i)) {
                        right++;
                    }
                }
            }
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("threshold", t);
            m.put("answered", answered);
            m.put(
                    "coverage",
                    round(confidence.isEmpty() ? 0 : (double) answered / confidence.size()));
            m.put("accuracy", round(answered == 0 ? 0 : (double) right / answered));
            th.add(m);
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("with_confidence", with);
        out.put("ece", round(ece));
        out.put("reliability", rel);
        out.put("thresholds", th);
        return out;
    }

    /** Rounds to 4 decimals for reports. */
    public static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}

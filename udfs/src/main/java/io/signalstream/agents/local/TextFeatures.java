package io.signalstream.agents.local;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sparse features of one short message for the {@link LinearTextClassifier}s, shared by the trainer
 * ({@code eval train}) and the runtime so both see exactly the same features.
 *
 * <p>Text features (value 1.0 each, deduplicated): lower-cased word unigrams {@code u:word}, word
 * bigrams {@code b:w1_w2} (with {@code <s>} at the start), and character 4-grams of each word
 * padded with {@code _} ({@code c:_ref}, for typos and inflections). URLs and {@code @handles} are
 * dropped first, curly apostrophes become {@code '}. VADER features (from {@link SentimentScores}):
 * {@code v:compound, v:pos, v:neg, v:neu} as values and one bin of the compound score {@code
 * v:bin=k} (k in -4..4). Callers may add their own, e.g. the rules' intent as {@code r:intent}.
 *
 * <p>Stateless and thread-safe.
 */
public final class TextFeatures {

    private TextFeatures() {}

    /**
     * Word tokens of a message: lower-cased runs of letters, digits and apostrophes, after removing
     * URLs and {@code @handles}.
     *
     * @param text any text (null is treated as empty)
     * @return the tokens in order
     */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        String s = text.replace('\u2019', '\'').replace('\u2018', '\'');
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if ((c == '@' || c == 'h' || c == 'w') && skippable(s, i)) {
                while (i < n && !Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                continue;
            }
            if (Character.isLetterOrDigit(c)) {
                int start = i;
                while (i < n
                        && (Character.isLetterOrDigit(s.charAt(i))
                                || (s.charAt(i) == '\''
                                        && i + 1 < n
                                        && Character.isLetter(s.charAt(i + 1))))) {
                    i++;
                }
                out.add(s.substring(start, i).toLowerCase(Locale.ROOT));
            } else {
                i++;
            }
        }
        return out;
    }

    /** A handle ({@code @x} at a word start), or a URL ({@code http://, https://, www.}). */
    private static boolean skippable(String s, int i) {
        boolean wordStart = i == 0 || Character.isWhitespace(s.charAt(i - 1));
        if (s.charAt(i) == '@') {
            return wordStart && i + 1 < s.length() && Character.isLetterOrDigit(s.charAt(i + 1));
        }
        return wordStart
                && (s.startsWith("http://", i)
                        || s.startsWith("https://", i)
                        || s.startsWith("www.", i));
    }

    private static final java.util.Set<String> NEGATIONS =
            java.util.Set.of("not", "no", "never", "nothing", "nobody", "cant", "dont", "wont");

    private static final String[] SMILES = {":)", ":-)", ":D", ";)", "(:", "<3", ":P"};
    private static final String[] FROWNS = {":(", ":-(", ":/", ":'(", "):", ">:("};

    /** Emoticons, question and exclamation marks, shouting: {@code p:...} features. */
    private static void cues(String text, Map<String, Double> f) {
        if (text == null) {
            return;
        }
        for (String s : SMILES) {
            if (text.contains(s)) {
                f.put("p:smile", 1.0);
                break;
            }
        }
        for (String s : FROWNS) {
            if (text.contains(s) && !text.contains("://")) {
                f.put("p:frown", 1.0);
                break;
            }
        }
        if (text.indexOf('?') >= 0) {
            f.put("p:question", 1.0);
        }
        if (text.contains("!")) {
            f.put("p:exclaim", 1.0);
        }
        int letters = 0;
        int upper = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isLetter(c)) {
                letters++;
                upper += Character.isUpperCase(c) ? 1 : 0;
            }
        }
        if (letters >= 8 && upper * 2 > letters) {
            f.put("p:shout", 1.0);
        }
    }

    /**
     * The features of a message.
     *
     * @param text the message
     * @param vader its VADER scores, or null for none
     * @param extra further binary feature names (may be empty)
     * @return feature name → value, in insertion order
     */
    public static Map<String, Double> extract(
            String text, SentimentScores vader, List<String> extra) {
        List<String> tokens = tokens(text);
        Map<String, Double> f = new LinkedHashMap<>(tokens.size() * 8 + 16);
        String prev = "<s>";
        boolean negated = false;
        for (String t : tokens) {
            f.put("u:" + t, 1.0);
            if (negated) {
                f.put("n:" + t, 1.0);
            }
            negated |= NEGATIONS.contains(t) || t.endsWith("n't");
            f.put("b:" + prev + "_" + t, 1.0);
            prev = t;
            String padded = "_" + t + "_";
            for (int k = 0; k + 4 <= padded.length(); k++) {
                f.put("c:" + padded.substring(k, k + 4), 1.0);
            }
        }
        cues(text, f);
        if (vader != null) {
            f.put("v:compound", vader.compound());
            f.put("v:pos", vader.positive());
            f.put("v:neg", vader.negative());
            f.put("v:neu", vader.neutral());
            long bin = Math.round(vader.compound() * 4);
            f.put("v:bin=" + bin, 1.0);
        }
        for (String e : extra) {
            f.put(e, 1.0);
        }
        return f;
    }
}

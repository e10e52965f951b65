package io.signalstream.agents.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Java port of VADER (Valence Aware Dictionary and sEntiment Reasoner): C.J. Hutto and E. Gilbert,
 * "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM 2014.
 * The rules and constants follow the MIT-licensed reference implementation cjhutto/vaderSentiment
 * ({@code vaderSentiment.py}, version 3.3.x):
 *
 * <ul>
 *   <li>tokens are whitespace separated; leading/trailing punctuation is stripped unless that
 *       leaves two chars or fewer, which keeps emoticons such as {@code :(}, {@code :-)} and {@code
 *       :D} (all in the lexicon) intact;
 *   <li>each token's mean valence from the lexicon ({@code lexicon/vader_lexicon.txt}, range about
 *       -4 to +4);
 *   <li>booster/dampener words up to three tokens before a sentiment word add &plusmn;{@value
 *       #B_INCR} (scaled 1, 0.95, 0.9 by distance);
 *   <li>an ALL-CAPS sentiment word or booster adds &plusmn;{@value #C_INCR} when the text is mixed
 *       case;
 *   <li>a negation within the three preceding tokens multiplies by {@value #N_SCALAR} ("never
 *       so/this" intensifies by 1.25, "without doubt" is kept); "no" negates the next lexicon word;
 *       "least" (not "at least"/"very least") negates;
 *   <li>"but": sentiment before the first "but" is halved, after it multiplied by 1.5;
 *   <li>special multi-word cases ("the bomb", "yeah right", ...) and the booster bigrams "kind
 *       of"/"sort of";
 *   <li>punctuation emphasis: each "!" adds 0.292 (at most 4), 2-3 "?" add 0.18 each and more add
 *       0.96, in the direction of the summed valence;
 *   <li>{@code compound = s / sqrt(s^2 + 15)}; negative/neutral/positive are the proportions of
 *       (|valence| + 1) weights, neutral tokens counting 1.
 * </ul>
 *
 * <p>Deviations from the reference: the "but" rule scales by token position (the reference looks
 * positions up by value, which mis-scales repeated equal valences); only a small table of common
 * emoji (Unicode CLDR short names, as in the reference's emoji lexicon) is translated to words.
 * Outputs are rounded like the reference (3 decimals for the proportions, 4 for compound).
 *
 * <p>The lexicon is loaded once per JVM on first use. Instances are immutable and thread-safe.
 */
public final class VaderSentimentAnalyzer {

    /** Empirically derived booster increment (Hutto and Gilbert 2014). */
    public static final double B_INCR = 0.293;

    /** Booster decrement. */
    public static final double B_DECR = -0.293;

    /** ALL-CAPS emphasis increment. */
    public static final double C_INCR = 0.733;

    /** Negation scalar. */
    public static final double N_SCALAR = -0.74;

    /** Normalisation constant alpha in {@code s / sqrt(s^2 + alpha)}. */
    public static final double ALPHA = 15.0;

    /** Compound threshold for a positive label (VADER README). */
    public static final double POSITIVE_THRESHOLD = 0.05;

    /** Compound threshold for a negative label (VADER README). */
    public static final double NEGATIVE_THRESHOLD = -0.05;

    /** Classpath location of the lexicon. */
    public static final String LEXICON_RESOURCE = "/lexicon/vader_lexicon.txt";

    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private static final Set<String> NEGATE =
            Set.of(
                    "aint",
                    "arent",
                    "cannot",
                    "cant",
                    "couldnt",
                    "darent",
                    "didnt",
                    "doesnt",
                    "ain't",
                    "aren't",
                    "can't",
                    "couldn't",
                    "daren't",
                    "didn't",
                    "doesn't",
                    "dont",
                    "hadnt",
                    "hasnt",
                    "havent",
                    "isnt",
                    "mightnt",
                    "mustnt",
                    "neither",
                    "don't",
                    "hadn't",
                    "hasn't",
                    "haven't",
                    "isn't",
                    "mightn't",
                    "mustn't",
                    "neednt",
                    "needn't",
                    "never",
                    "none",
                    "nope",
                    "nor",
                    "not",
                    "nothing",
                    "nowhere",
                    "oughtnt",
                    "shant",
                    "shouldnt",
                    "uhuh",
                    "wasnt",
                    "werent",
                    "oughtn't",
                    "shan't",
                    "shouldn't",
                    "uh-uh",
                    "wasn't",
                    "weren't",
                    "without",
                    "wont",
                    "wouldnt",
                    "won't",
                    "wouldn't",
                    "rarely",
                    "seldom",
                    "despite");

    private static final Map<String, Double> BOOSTERS = boosters();

    private static final Map<String, Double> SPECIAL_CASES =
            Map.of(
                    "the shit",
                    3.0,
                    "the bomb",
                    3.0,
                    "bad ass",
                    1.5,
                    "badass",
                    1.5,
                    "bus stop",
                    0.0,
                    "yeah right",
                    -2.0,
                    "kiss of death",
                    -1.5,
                    "to die for",
                    3.0,
                    "beating heart",
                    3.1,
                    "broken heart",
                    -2.9);

    /**
     * Common emoji mapped to their Unicode CLDR short names, as the reference's emoji lexicon does.
     * Only emoji whose names contain a lexicon word are listed (e.g. "thumbs up" and "red heart"
     * have no lexicon entry, so they would not change any score).
     */
    private static final Map<String, String> EMOJI =
            Map.ofEntries(
                    Map.entry("\uD83D\uDE00", "grinning face"),
                    Map.entry("\uD83D\uDE01", "beaming face with smiling eyes"),
                    Map.entry("\uD83D\uDE02", "face with tears of joy"),
                    Map.entry("\uD83D\uDE0A", "smiling face with smiling eyes"),
                    Map.entry("\uD83D\uDE0D", "smiling face with heart-eyes"),
                    Map.entry("\uD83D\uDE42", "slightly smiling face"),
                    Map.entry("\uD83D\uDE41", "slightly frowning face"),
                    Map.entry("\uD83D\uDE1E", "disappointed face"),
                    Map.entry("\uD83D\uDE22", "crying face"),
                    Map.entry("\uD83D\uDE2D", "loudly crying face"),
                    Map.entry("\uD83D\uDE20", "angry face"),
                    Map.entry("\uD83D\uDC94", "broken heart"),
                    Map.entry("\uD83D\uDE4F", "folded hands"),
                    Map.entry("\uD83D\uDE04", "grinning face with smiling eyes"),
                    Map.entry("\uD83D\uDE14", "pensive face"),
                    Map.entry("\uD83D\uDE2B", "tired face"));

    /**
     * Request and politeness markers that {@link #forSupportChat()} scores as neutral. VADER rates
     * them positive (help 1.7, please 1.3), so in a support channel every plea for help would read
     * as positive; asking for help is the reason the contact exists, not a feeling about it.
     */
    public static final Set<String> SUPPORT_REQUEST_MARKERS =
            Set.of("help", "please", "pls", "plz");

    /**
     * An {@code @handle} or an http(s) URL. An {@code @} right after a character that can end an
     * e-mail address's local part is not a handle; {@code .@united} (a public reply) is.
     */
    private static final Pattern HANDLE_OR_URL =
            Pattern.compile("(?<![\\p{L}\\p{N}_%+\\-])@\\w+|https?://\\S+");

    /** Smallest code point of a single-code-point {@link #EMOJI} key; below it no lookup. */
    private static final int MIN_EMOJI =
            EMOJI.keySet().stream()
                    .filter(k -> k.codePointCount(0, k.length()) == 1)
                    .mapToInt(k -> k.codePointAt(0))
                    .min()
                    .orElse(Integer.MAX_VALUE);

    private static volatile Map<String, Double> sharedLexicon;

    private final Map<String, Double> lexicon;
    private final boolean dropHandlesAndUrls;

    /**
     * Creates an analyzer backed by the bundled lexicon.
     *
     * @throws IllegalStateException if the lexicon resource is missing or unreadable
     */
    public VaderSentimentAnalyzer() {
        this(defaultLexicon(), false);
    }

    private VaderSentimentAnalyzer(Map<String, Double> lexicon, boolean dropHandlesAndUrls) {
        this.lexicon = lexicon;
        this.dropHandlesAndUrls = dropHandlesAndUrls;
    }

    /**
     * VADER adapted to customer-support chat, the variant the {@code local} sentiment agent and the
     * SQL functions use. Two changes to the reference, nothing else:
     *
     * <ul>
     *   <li>{@code @handles} and URLs are removed before tokenizing. The reference strips the
     *       {@code @} and scores the rest as a word, so a message to {@code @united} scores +1.8
     *       from the airline's name, and a handle like {@code @AskLove} reads as love;
     *   <li>the {@link #SUPPORT_REQUEST_MARKERS} score 0 (they still count as neutral tokens).
     * </ul>
     *
     * <p>Measured with {@code eval --task sentiment} on the 10,139 labelled airline tweets: the
     * reference scores accuracy 0.495 and macro-F1 0.463, this variant 0.575 and 0.543 (the
     * README's Quality section has the command). The thresholds stay VADER's ±0.05.
     *
     * @return a new analyzer sharing the bundled lexicon's entries
     * @throws IllegalStateException if the lexicon resource is missing or unreadable
     */
    public static VaderSentimentAnalyzer forSupportChat() {
        Map<String, Double> adapted = new HashMap<>(defaultLexicon());
        adapted.keySet().removeAll(SUPPORT_REQUEST_MARKERS);
        return new VaderSentimentAnalyzer(Map.copyOf(adapted), true);
    }

    /**
     * Maps a compound score to a label using the VADER README thresholds.
     *
     * @param compound compound score in [-1, 1]
     * @return "positive" if compound &gt;= 0.05, "negative" if &lt;= -0.05, else "neutral"
     */
    public static String label(double compound) {
        if (compound >= POSITIVE_THRESHOLD) {
            return "positive";
        }
        return compound <= NEGATIVE_THRESHOLD ? "negative" : "neutral";
    }

    /**
     * Scores a text.
     *
     * @param text any text, e.g. one tweet or chat message; may be empty
     * @return the scores; {@link SentimentScores#EMPTY} for a text without tokens
     * @throws NullPointerException if text is null
     */
    public SentimentScores analyze(String text) {
        Objects.requireNonNull(text, "text");
        String prepared =
                replaceEmoji(
                                dropHandlesAndUrls
                                                && (text.indexOf('@') >= 0 || text.contains("http"))
                                        ? HANDLE_OR_URL.matcher(text).replaceAll(" ")
                                        : text)
                        .strip();
        List<String> tokens = tokenize(prepared);
        if (tokens.isEmpty()) {
            return SentimentScores.EMPTY;
        }
        List<String> lower = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            lower.add(t.toLowerCase(Locale.ROOT));
        }
        boolean capDiff = allCapDifferential(tokens);
        double[] sentiments = new double[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            String w = lower.get(i);
            boolean kindOf =
                    w.equals("kind") && i + 1 < tokens.size() && lower.get(i + 1).equals("of");
            if (BOOSTERS.containsKey(w) || kindOf) {
                continue;
            }
            sentiments[i] = valence(tokens, lower, i, capDiff);
        }
        butCheck(lower, sentiments);
        return scoreValence(sentiments, prepared);
    }

    /** Alias of {@link #analyze(String)} named after the reference's method. */
    public SentimentScores polarityScores(String text) {
        return analyze(text);
    }

    /** Returns true if the (lower-cased) token is in the lexicon; for tests and diagnostics. */
    public boolean inLexicon(String token) {
        return lexicon.containsKey(token.toLowerCase(Locale.ROOT));
    }

    private double valence(List<String> tokens, List<String> lower, int i, boolean capDiff) {
        String w = lower.get(i);
        Double base = lexicon.get(w);
        if (base == null) {
            return 0.0;
        }
        double valence = base;
        int n = tokens.size();
        if (w.equals("no") && i != n - 1 && lexicon.containsKey(lower.get(i + 1))) {
            valence = 0.0;
        }
        if ((i > 0 && lower.get(i - 1).equals("no"))
                || (i > 1 && lower.get(i - 2).equals("no"))
                || (i > 2
                        && lower.get(i - 3).equals("no")
                        && (lower.get(i - 1).equals("or") || lower.get(i - 1).equals("nor")))) {
            valence = base * N_SCALAR;
        }
        if (isUpper(tokens.get(i)) && capDiff) {
            valence += valence > 0 ? C_INCR : -C_INCR;
        }
        for (int startI = 0; startI < 3; startI++) {
            int j = i - (startI + 1);
            if (i > startI && !lexicon.containsKey(lower.get(j))) {
                double s = scalarIncDec(tokens.get(j), lower.get(j), valence, capDiff);
                if (startI == 1) {
                    s *= 0.95;
                } else if (startI == 2) {
                    s *= 0.9;
                }
                valence += s;
                valence = negationCheck(valence, lower, startI, i);
                if (startI == 2) {
                    valence = specialIdiomsCheck(valence, lower, i);
                }
            }
        }
        return leastCheck(valence, lower, i);
    }

    private static double scalarIncDec(String word, String lower, double valence, boolean capDiff) {
        Double b = BOOSTERS.get(lower);
        if (b == null) {
            return 0.0;
        }
        double scalar = valence < 0 ? -b : b;
        if (isUpper(word) && capDiff) {
            scalar += valence > 0 ? C_INCR : -C_INCR;
        }
        return scalar;
    }

    private static double negationCheck(double valence, List<String> w, int startI, int i) {
        if (startI == 0) {
            return negated(w.get(i - 1)) ? valence * N_SCALAR : valence;
        }
        if (startI == 1) {
            if (w.get(i - 2).equals("never")
                    && (w.get(i - 1).equals("so") || w.get(i - 1).equals("this"))) {
                return valence * 1.25;
            }
            if (w.get(i - 2).equals("without") && w.get(i - 1).equals("doubt")) {
                return valence;
            }
            return negated(w.get(i - 2)) ? valence * N_SCALAR : valence;
        }
        // startI == 2; operator precedence as in the reference implementation
        if ((w.get(i - 3).equals("never")
                        && (w.get(i - 2).equals("so") || w.get(i - 2).equals("this")))
                || (w.get(i - 1).equals("so") || w.get(i - 1).equals("this"))) {
            return valence * 1.25;
        }
        if (w.get(i - 3).equals("without")
                && (w.get(i - 2).equals("doubt") || w.get(i - 1).equals("doubt"))) {
            return valence;
        }
        return negated(w.get(i - 3)) ? valence * N_SCALAR : valence;
    }

    private static double specialIdiomsCheck(double valence, List<String> w, int i) {
        String oneZero = w.get(i - 1) + " " + w.get(i);
        String twoOneZero = w.get(i - 2) + " " + oneZero;
        String twoOne = w.get(i - 2) + " " + w.get(i - 1);
        String threeTwoOne = w.get(i - 3) + " " + twoOne;
        String threeTwo = w.get(i - 3) + " " + w.get(i - 2);
        for (String seq : List.of(oneZero, twoOneZero, twoOne, threeTwoOne, threeTwo)) {
            Double v = SPECIAL_CASES.get(seq);
            if (v != null) {
                valence = v;
                break;
            }
        }
        if (w.size() - 1 > i) {
            Double v = SPECIAL_CASES.get(w.get(i) + " " + w.get(i + 1));
            if (v != null) {
                valence = v;
            }
        }
        if (w.size() - 1 > i + 1) {
            Double v = SPECIAL_CASES.get(w.get(i) + " " + w.get(i + 1) + " " + w.get(i + 2));
            if (v != null) {
                valence = v;
            }
        }
        for (String gram : List.of(threeTwoOne, threeTwo, twoOne)) {
            Double b = BOOSTERS.get(gram);
            if (b != null) {
                valence += b;
            }
        }
        return valence;
    }

    private double leastCheck(double valence, List<String> w, int i) {
        if (i > 0 && !lexicon.containsKey(w.get(i - 1)) && w.get(i - 1).equals("least")) {
            if (i == 1 || (!w.get(i - 2).equals("at") && !w.get(i - 2).equals("very"))) {
                return valence * N_SCALAR;
            }
        }
        return valence;
    }

    private static void butCheck(List<String> lower, double[] sentiments) {
        int bi = lower.indexOf("but");
        if (bi < 0) {
            return;
        }
        for (int si = 0; si < sentiments.length; si++) {
            if (si < bi) {
                sentiments[si] *= 0.5;
            } else if (si > bi) {
                sentiments[si] *= 1.5;
            }
        }
    }

    private static SentimentScores scoreValence(double[] sentiments, String text) {
        double sum = 0.0;
        for (double s : sentiments) {
            sum += s;
        }
        double punct = amplifyExclamation(text) + amplifyQuestion(text);
        if (sum > 0) {
            sum += punct;
        } else if (sum < 0) {
            sum -= punct;
        }
        double compound = Math.max(-1.0, Math.min(1.0, sum / Math.sqrt(sum * sum + ALPHA)));
        double posSum = 0.0;
        double negSum = 0.0;
        int neuCount = 0;
        for (double s : sentiments) {
            if (s > 0) {
                posSum += s + 1;
            } else if (s < 0) {
                negSum += s - 1;
            } else {
                neuCount++;
            }
        }
        if (posSum > Math.abs(negSum)) {
            posSum += punct;
        } else if (posSum < Math.abs(negSum)) {
            negSum -= punct;
        }
        double total = posSum + Math.abs(negSum) + neuCount;
        return new SentimentScores(
                round(Math.abs(negSum / total), 3),
                round(Math.abs(neuCount / total), 3),
                round(Math.abs(posSum / total), 3),
                round(compound, 4));
    }

    private static double amplifyExclamation(String text) {
        long count = text.chars().filter(c -> c == '!').count();
        return Math.min(count, 4) * 0.292;
    }

    private static double amplifyQuestion(String text) {
        long count = text.chars().filter(c -> c == '?').count();
        if (count <= 1) {
            return 0.0;
        }
        return count <= 3 ? count * 0.18 : 0.96;
    }

    private static boolean negated(String lowerWord) {
        return NEGATE.contains(lowerWord) || lowerWord.contains("n't");
    }

    private static boolean allCapDifferential(List<String> tokens) {
        int caps = 0;
        for (String t : tokens) {
            if (isUpper(t)) {
                caps++;
            }
        }
        int diff = tokens.size() - caps;
        return diff > 0 && diff < tokens.size();
    }

    /** Python's {@code str.isupper()}: at least one cased char and no lower-case char. */
    static boolean isUpper(String s) {
        boolean cased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (Character.isLowerCase(cp)) {
                return false;
            }
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                cased = true;
            }
            i += Character.charCount(cp);
        }
        return cased;
    }

    /** Whitespace split, stripping punctuation from tokens unless 2 chars or fewer remain. */
    static List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        int n = text.length();
        for (int start = 0; start < n; ) {
            while (start < n && isUnicodeSpace(text.charAt(start))) {
                start++;
            }
            int end = start;
            while (end < n && !isUnicodeSpace(text.charAt(end))) {
                end++;
            }
            if (end == start) {
                break;
            }
            String raw = text.substring(start, end);
            start = end;
            int b = 0;
            int e = raw.length();
            while (b < e && PUNCTUATION.indexOf(raw.charAt(b)) >= 0) {
                b++;
            }
            while (e > b && PUNCTUATION.indexOf(raw.charAt(e - 1)) >= 0) {
                e--;
            }
            out.add(e - b <= 2 ? raw : raw.substring(b, e));
        }
        return out;
    }

    /**
     * {@code \s} with {@link Pattern#UNICODE_CHARACTER_CLASS} (Unicode White_Space), the separator
     * of {@link #tokenize}; all White_Space characters are in the BMP.
     */
    private static boolean isUnicodeSpace(char c) {
        if (c <= 0x20) {
            return c == ' ' || (c >= 0x09 && c <= 0x0D);
        }
        if (c == 0x85) {
            return true;
        }
        int type = Character.getType(c);
        return type == Character.SPACE_SEPARATOR
                || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR;
    }

    private static String replaceEmoji(String text) {
        int first = 0;
        while (first < text.length()) {
            char c = text.charAt(first);
            if (c >= MIN_EMOJI || c == 0xFE0F || Character.isSurrogate(c)) {
                break;
            }
            first++;
        }
        if (first == text.length()) {
            return text; // no emoji and no selector: nothing to replace
        }
        StringBuilder out = new StringBuilder(text.length());
        boolean prevSpace = true;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0xFE0F) {
                continue; // emoji presentation selector
            }
            String ch = cp < MIN_EMOJI ? null : new String(Character.toChars(cp));
            String description = ch == null ? null : EMOJI.get(ch);
            if (description != null) {
                if (!prevSpace) {
                    out.append(' ');
                }
                out.append(description);
                prevSpace = false;
            } else {
                out.appendCodePoint(cp);
                prevSpace = cp == ' ';
            }
        }
        return out.toString();
    }

    private static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    private static Map<String, Double> boosters() {
        Map<String, Double> m = new HashMap<>();
        for (String w :
                List.of(
                        "absolutely",
                        "amazingly",
                        "awfully",
                        "completely",
                        "considerable",
                        "considerably",
                        "decidedly",
                        "deeply",
                        "effing",
                        "enormous",
                        "enormously",
                        "entirely",
                        "especially",
                        "exceptional",
                        "exceptionally",
                        "extreme",
                        "extremely",
                        "fabulously",
                        "flipping",
                        "flippin",
                        "frackin",
                        "fracking",
                        "fricking",
                        "frickin",
                        "frigging",
                        "friggin",
                        "fully",
                        "fuckin",
                        "fucking",
                        "fuggin",
                        "fugging",
                        "greatly",
                        "hella",
                        "highly",
                        "hugely",
                        "incredible",
                        "incredibly",
                        "intensely",
                        "major",
                        "majorly",
                        "more",
                        "most",
                        "particularly",
                        "purely",
                        "quite",
                        "really",
                        "remarkably",
                        "so",
                        "substantially",
                        "thoroughly",
                        "total",
                        "totally",
                        "tremendous",
                        "tremendously",
                        "uber",
                        "unbelievably",
                        "unusually",
                        "utter",
                        "utterly",
                        "very")) {
            m.put(w, B_INCR);
        }
        for (String w :
                List.of(
                        "almost",
                        "barely",
                        "hardly",
                        "just enough",
                        "kind of",
                        "kinda",
                        "kindof",
                        "kind-of",
                        "less",
                        "little",
                        "marginal",
                        "marginally",
                        "occasional",
                        "occasionally",
                        "partly",
                        "scarce",
                        "scarcely",
                        "slight",
                        "slightly",
                        "somewhat",
                        "sort of",
                        "sorta",
                        "sortof",
                        "sort-of")) {
            m.put(w, B_DECR);
        }
        return Map.copyOf(m);
    }

    /**
     * Loads a lexicon resource: one entry a line, tab separated {@code token, mean valence,
     * standard deviation, raw ratings}; a repeated token keeps its last value (as a Python dict
     * does in the reference). Tokens are stored as written and looked up lower-cased, as in the
     * reference, so the few upper-case entries (e.g. {@code :D}) are reached through their
     * lower-case twins.
     *
     * @throws IllegalStateException if the resource is missing, unreadable or malformed
     */
    static Map<String, Double> loadLexicon(String resource) {
        InputStream in = VaderSentimentAnalyzer.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException(
                    "VADER lexicon resource not found on classpath: " + resource);
        }
        Map<String, Double> m = new HashMap<>();
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.strip().split("\t");
                if (f.length < 2) {
                    throw new IllegalStateException(
                            "malformed lexicon line " + lineNo + " in " + resource);
                }
                try {
                    m.put(f[0], Double.parseDouble(f[1]));
                } catch (NumberFormatException e) {
                    throw new IllegalStateException(
                            "malformed valence on lexicon line " + lineNo + " in " + resource, e);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot read VADER lexicon " + resource, new UncheckedIOException(e));
        }
        return Map.copyOf(m);
    }

    /** Loads the bundled lexicon once per JVM (double-checked locking on a volatile). */
    private static Map<String, Double> defaultLexicon() {
        Map<String, Double> m = sharedLexicon;
        if (m == null) {
            synchronized (VaderSentimentAnalyzer.class) {
                m = sharedLexicon;
                if (m == null) {
                    m = loadLexicon(LEXICON_RESOURCE);
                    sharedLexicon = m;
                }
            }
        }
        return m;
    }
}

package io.signalstream.agents.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import opennlp.tools.namefind.NameFinderME;
import opennlp.tools.namefind.TokenNameFinderModel;
import opennlp.tools.tokenize.SimpleTokenizer;
import opennlp.tools.util.Span;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Learned recognizer of person names ({@code PERSON}), street addresses ({@code STREET_ADDRESS})
 * and locations ({@code GPE}): an Apache OpenNLP maximum-entropy name finder over {@link
 * SimpleTokenizer} tokens, trained by {@code eval train-pii} on the training part of the Presidio
 * synthetic set (MIT), with a per-type reliability table that maps the finder's span probability to
 * the precision measured on a calibration part of the training split.
 *
 * <p>The model ({@value #MODEL_RESOURCE}, about 1 MB) and its calibration ({@value
 * #CALIBRATION_RESOURCE}) are read from the class path once per JVM ({@link #shared()}); nothing is
 * downloaded. The model is immutable; each thread decodes with its own {@link NameFinderME}, so
 * instances are thread-safe.
 */
public final class PiiNameFinder {

    /** Class path resource of the OpenNLP name finder model. */
    public static final String MODEL_RESOURCE = "/models/pii-ner-en.bin";

    /** Class path resource of the per-type calibration table (JSON). */
    public static final String CALIBRATION_RESOURCE = "/models/pii-ner-en.calibration.json";

    /** Class path resource of the common-word list (one lower-case word a line, # comments). */
    public static final String COMMON_WORDS_RESOURCE = "/models/pii-common-words.txt";

    /** Entity types this finder reports; the model may know more (e.g. ORGANIZATION). */
    public static final List<String> TYPES = List.of("PERSON", "STREET_ADDRESS", "GPE");

    /**
     * Per-type confidence floors of the shipped model: a finding of a type is reported only when
     * its calibrated confidence is at least the type's floor (and {@code min_confidence}). Each
     * floor is the lowest confidence at which that type's precision (exact span) reaches {@value
     * #FLOOR_PRECISION} on the CALIBRATION part of the training split, as {@code eval train-pii}
     * prints it ({@code floors}); never chosen on the held-out part. {@link
     * Double#POSITIVE_INFINITY} means the type never reaches that precision there and is not
     * reported: STREET_ADDRESS (exact-span precision at most 0.87 at any confidence, the boundaries
     * of multi-line addresses are labelled inconsistently).
     */
    public static final Map<String, Double> DEFAULT_FLOORS =
            Map.of("PERSON", 0.625, "GPE", 0.667, "STREET_ADDRESS", Double.POSITIVE_INFINITY);

    /** Precision (exact span, calibration part) a type's floor must reach. */
    public static final double FLOOR_PRECISION = 0.9;

    private final TokenNameFinderModel model;
    private final Map<String, Calibration> calibration;
    private final Map<String, Double> floors;
    private final double minConfidence;
    private final java.util.Set<String> commonWords;
    private final ThreadLocal<NameFinderME> finders;

    /**
     * A raw finding before calibration.
     *
     * @param type entity type as the model names it
     * @param start start char offset, inclusive
     * @param end end char offset, exclusive
     * @param probability the finder's span probability (mean of its tokens' outcome probabilities),
     *     in [0, 1]
     */
    public record RawSpan(String type, int start, int end, double probability) {}

    /**
     * Reliability table of one type: span probabilities at or above {@code lower[i]} (and below
     * {@code lower[i + 1]}) were correct with frequency {@code precision[i]} on the calibration
     * data.
     *
     * @param lower ascending lower bin edges, the first 0
     * @param precision measured (monotone, smoothed) precision per bin, in [0, 1]
     */
    public record Calibration(double[] lower, double[] precision) {

        /** Validates the table. */
        public Calibration {
            if (lower.length == 0 || lower.length != precision.length) {
                throw new IllegalArgumentException("calibration bins and values differ");
            }
        }

        /** The calibrated confidence of a span probability. */
        public double confidence(double probability) {
            int i = 0;
            while (i + 1 < lower.length && probability >= lower[i + 1]) {
                i++;
            }
            return precision[i];
        }
    }

    private static final class Holder {
        static final PiiNameFinder INSTANCE = load();
    }

    /**
     * The finder of the shipped model, loaded on first use and shared by all threads.
     *
     * @throws IllegalStateException if the model or its calibration is missing or unreadable
     */
    public static PiiNameFinder shared() {
        return Holder.INSTANCE;
    }

    private static PiiNameFinder load() {
        try (InputStream m = PiiNameFinder.class.getResourceAsStream(MODEL_RESOURCE);
                InputStream c = PiiNameFinder.class.getResourceAsStream(CALIBRATION_RESOURCE)) {
            if (m == null || c == null) {
                throw new IllegalStateException(
                        "missing " + MODEL_RESOURCE + " or " + CALIBRATION_RESOURCE);
            }
            TokenNameFinderModel model = new TokenNameFinderModel(m);
            JsonNode cal = new com.fasterxml.jackson.databind.ObjectMapper().readTree(c);
            return new PiiNameFinder(
                    model,
                    readCalibration(cal),
                    cal.path("min_confidence").asDouble(0.5),
                    readWords(PiiNameFinder.class.getResourceAsStream(COMMON_WORDS_RESOURCE)),
                    DEFAULT_FLOORS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the PII name finder model", e);
        }
    }

    /**
     * Reads the {@code types} object of a calibration file: {@code {TYPE: {lower: [..], precision:
     * [..]}}}.
     */
    public static Map<String, Calibration> readCalibration(JsonNode file) {
        Map<String, Calibration> out = new HashMap<>();
        file.path("types")
                .fields()
                .forEachRemaining(
                        e ->
                                out.put(
                                        e.getKey(),
                                        new Calibration(
                                                doubles(e.getValue().path("lower")),
                                                doubles(e.getValue().path("precision")))));
        return out;
    }

    /**
     * Reads a word list: one word a line, lines starting with {@code #} and blank lines skipped.
     *
     * @param in the list, or null for none (closed here)
     * @return the lower-cased words
     * @throws IOException if the list cannot be read
     */
    public static java.util.Set<String> readWords(InputStream in) throws IOException {
        if (in == null) {
            return java.util.Set.of();
        }
        try (in) {
            java.util.Set<String> out = new java.util.HashSet<>();
            for (String line :
                    new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                            .split("\n")) {
                String w = line.strip();
                if (!w.isEmpty() && !w.startsWith("#")) {
                    out.add(w.toLowerCase(java.util.Locale.ROOT));
                }
            }
            return java.util.Set.copyOf(out);
        }
    }

    private static double[] doubles(JsonNode array) {
        double[] d = new double[array.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = array.get(i).asDouble();
        }
        return d;
    }

    /**
     * @param model a trained OpenNLP name finder model
     * @param calibration reliability table per reported type; a type without one is not reported
     * @param minConfidence findings below this calibrated confidence are dropped
     * @param commonWords lower-case common English words: a person's name made only of them
     *     ("Paper", "Premiere Pro") is dropped, and a name is not extended by one
     */
    public PiiNameFinder(
            TokenNameFinderModel model,
            Map<String, Calibration> calibration,
            double minConfidence,
            java.util.Set<String> commonWords) {
        this(model, calibration, minConfidence, commonWords, Map.of());
    }

    /**
     * @param model a trained OpenNLP name finder model
     * @param calibration reliability table per reported type; a type without one is not reported
     * @param minConfidence findings below this calibrated confidence are dropped
     * @param commonWords lower-case common English words (see the other constructor)
     * @param floors per-type minimum calibrated confidence on top of {@code minConfidence} (a type
     *     without a floor has none; {@link Double#POSITIVE_INFINITY} turns a type off), see {@link
     *     #DEFAULT_FLOORS}
     */
    public PiiNameFinder(
            TokenNameFinderModel model,
            Map<String, Calibration> calibration,
            double minConfidence,
            java.util.Set<String> commonWords,
            Map<String, Double> floors) {
        this.model = Objects.requireNonNull(model, "model");
        this.calibration = Map.copyOf(calibration);
        this.floors = Map.copyOf(floors);
        this.minConfidence = minConfidence;
        this.commonWords = java.util.Set.copyOf(commonWords);
        this.finders = ThreadLocal.withInitial(() -> new NameFinderME(this.model));
    }

    /** Words a name found alone may take after it ({@link #extendName}, {@link #extendNameEnd}). */
    public static final int NAME_EXTENSION_WORDS = 2;

    /**
     * Whether a word may continue a person's name: capitalised ("Smith", also "O'Brien" and
     * "Smith-Jones"), and neither a function word nor a common English word. The one rule for the
     * finder's own spans ({@link #extendName}) and for a name met again elsewhere ({@link
     * #extendNameEnd}).
     *
     * @param word one word, without spaces
     */
    public boolean continuesName(String word) {
        String lower = word.toLowerCase(java.util.Locale.ROOT);
        return NAME_WORD.matcher(word).matches()
                && !STOP_WORDS.contains(lower)
                && !commonWords.contains(lower);
    }

    /**
     * The end of a name that ends at {@code end} in {@code text}, extended as {@link #extendName}
     * extends the finder's spans: by up to {@value #NAME_EXTENSION_WORDS} following words, each
     * after exactly one space, ending at whitespace, punctuation or the end of the text, that
     * {@link #continuesName}. For a name found in one message and met again in another ("Hi
     * Lilian." names her; her sign-off "Lilian Surubaru" then hides the surname too).
     *
     * @param text any text
     * @param end the character offset where the name ends
     * @return {@code end} or a larger offset
     */
    public int extendNameEnd(String text, int end) {
        int words = 0;
        while (words < NAME_EXTENSION_WORDS
                && end + 1 < text.length()
                && text.charAt(end) == ' '
                && !Character.isWhitespace(text.charAt(end + 1))) {
            int stop = end + 1;
            while (stop < text.length()
                    && !Character.isWhitespace(text.charAt(stop))
                    && ".,;:!?)".indexOf(text.charAt(stop)) < 0) {
                stop++;
            }
            if (!continuesName(text.substring(end + 1, stop))) {
                break;
            }
            end = stop;
            words++;
        }
        return end;
    }

    /** Characters of text whose findings {@link #findCached} keeps per instance (about 8 MB). */
    public static final long CACHE_CHARS = 4_000_000;

    /** How long {@link #findCached} keeps a text nobody asked about again. */
    public static final java.time.Duration CACHE_IDLE = java.time.Duration.ofHours(1);

    /**
     * The findings of one text.
     *
     * @param reported what {@link #find(String)} reports
     * @param belowFloor the findings below the minimum or their type's floor
     */
    public record Findings(List<PiiEntity> reported, List<PiiEntity> belowFloor) {}

    private final Cache<String, Findings> recent =
            Caffeine.newBuilder()
                    .maximumWeight(CACHE_CHARS)
                    .weigher((String text, Findings f) -> text.length() + 64)
                    .expireAfterAccess(CACHE_IDLE)
                    .build();

    /**
     * {@link #find(String, List)}, cached per text: at most {@value #CACHE_CHARS} characters of
     * text (weighed by length, so long pasted texts take their share), each dropped after an hour
     * without use (the texts are customer messages: they are not kept longer than a conversation
     * needs them). On the LLM path one message is analysed for every request whose window holds it
     * (prompt redaction) and again when the pii answer is merged; the decoder (about 5 µs of CPU
     * per token) then runs once per message and JVM.
     *
     * @param text text to analyse
     * @return its findings (immutable lists)
     */
    public Findings findCached(String text) {
        return recent.get(
                text,
                t -> {
                    List<PiiEntity> below = new ArrayList<>();
                    List<PiiEntity> reported = find(t, below);
                    return new Findings(List.copyOf(reported), List.copyOf(below));
                });
    }

    private static final java.util.regex.Pattern URL =
            java.util.regex.Pattern.compile(
                    "(?:https?:\\s?//|www\\.)\\S+", java.util.regex.Pattern.CASE_INSENSITIVE);

    /**
     * Drops the tokens of URLs: they hold no name, and a scraped link splits into dozens of tokens,
     * each costing the decoder as much as a word.
     */
    static Span[] withoutUrls(String text, Span[] tokens) {
        if (text.indexOf("//") < 0 && text.indexOf("www.") < 0 && text.indexOf("WWW.") < 0) {
            return tokens;
        }
        java.util.regex.Matcher m = URL.matcher(text);
        List<Span> kept = new ArrayList<>(tokens.length);
        int t = 0;
        while (m.find()) {
            while (t < tokens.length && tokens[t].getEnd() <= m.start()) {
                kept.add(tokens[t++]);
            }
            while (t < tokens.length && tokens[t].getStart() < m.end()) {
                t++;
            }
        }
        while (t < tokens.length) {
            kept.add(tokens[t++]);
        }
        return kept.size() == tokens.length ? tokens : kept.toArray(new Span[0]);
    }

    /** Token char spans of {@code text} as the model sees them (letters, digits, others). */
    public static Span[] tokenize(String text) {
        return SimpleTokenizer.INSTANCE.tokenizePos(text);
    }

    /**
     * Finds the model's spans in {@code text} with their raw probabilities (all types the model
     * knows, no calibration), less those that fail the shape checks of {@link #plausible}.
     *
     * @param text text to analyse
     * @return spans with char offsets into {@code text}
     */
    public List<RawSpan> findRaw(String text) {
        Span[] tokens = withoutUrls(text, tokenize(text));
        if (tokens.length == 0) {
            return List.of();
        }
        String[] words = new String[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            words[i] = tokens[i].getCoveredText(text).toString();
        }
        NameFinderME finder = finders.get();
        Span[] spans;
        double[] probs;
        try {
            spans = finder.find(words);
            probs = finder.probs(spans);
        } finally {
            finder.clearAdaptiveData();
        }
        List<RawSpan> out = new ArrayList<>(spans.length);
        for (int i = 0; i < spans.length; i++) {
            Span s = spans[i];
            if ("PERSON".equals(s.getType())) {
                int limit = i + 1 < spans.length ? spans[i + 1].getStart() : tokens.length;
                s = extendName(s, text, words, tokens, limit);
            }
            if (plausible(s.getType(), text, words, s.getStart(), s.getEnd(), tokens)) {
                out.add(
                        new RawSpan(
                                s.getType(),
                                tokens[s.getStart()].getStart(),
                                tokens[s.getEnd() - 1].getEnd(),
                                probs[i]));
            }
        }
        return out.isEmpty() ? out : withoutPlacesInAddresses(text, out);
    }

    private static final java.util.regex.Pattern POSTCODE_AFTER =
            java.util.regex.Pattern.compile("[ ,]*\\d{4,6}\\b");

    /**
     * Drops places that are part of an address block: a GPE separated from an address span (of any
     * confidence) only by spaces, line breaks and punctuation, or followed by a postcode ("Nuuk /
     * Greenland 08167"). The city or country of an address belongs to the address, not to a
     * free-standing mention of a place.
     */
    static List<RawSpan> withoutPlacesInAddresses(String text, List<RawSpan> spans) {
        int n = spans.size();
        boolean[] address = new boolean[n];
        for (int i = 0; i < n; i++) {
            RawSpan r = spans.get(i);
            address[i] =
                    "STREET_ADDRESS".equals(r.type())
                            || ("GPE".equals(r.type())
                                    && POSTCODE_AFTER
                                            .matcher(text)
                                            .region(r.end(), text.length())
                                            .lookingAt());
        }
        // A place next to an address part is one too ("Apt. 615 Moosleerau Switzerland"), both
        // ways.
        for (int i = 1; i < n; i++) {
            address[i] |= address[i - 1] && adjacent(text, spans.get(i - 1), spans.get(i));
        }
        for (int i = n - 2; i >= 0; i--) {
            address[i] |= address[i + 1] && adjacent(text, spans.get(i), spans.get(i + 1));
        }
        List<RawSpan> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (!("GPE".equals(spans.get(i).type()) && address[i])) {
                out.add(spans.get(i));
            }
        }
        return out;
    }

    /** Whether only spaces, line breaks and separators lie between two spans. */
    private static boolean adjacent(String text, RawSpan a, RawSpan b) {
        for (int k = a.end(); k < b.start(); k++) {
            char c = text.charAt(k);
            if (!Character.isWhitespace(c) && ",;/-".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * A first name the model found alone takes up to {@value #NAME_EXTENSION_WORDS} following words
     * ("Laura" + " Jimenez"), separated by one space, that {@link #continuesName}: the synthetic
     * training set has too few surnames after "my name is" for the model to learn them all.
     */
    Span extendName(Span s, String text, String[] words, Span[] tokens, int limit) {
        int end = s.getEnd();
        while (end < limit
                && end - s.getEnd() < NAME_EXTENSION_WORDS
                && tokens[end].getStart() == tokens[end - 1].getEnd() + 1
                && text.charAt(tokens[end - 1].getEnd()) == ' '
                && continuesName(words[end])) {
            end++;
        }
        return end == s.getEnd() ? s : new Span(s.getStart(), end, s.getType(), s.getProb());
    }

    /**
     * A capitalised word; in running text also with an apostrophe or hyphenated parts ("O'Brien",
     * "Smith-Jones"), which the tokenizer splits off (on its tokens this is {@code \p{Lu}\p{Ll}+}).
     */
    private static final java.util.regex.Pattern NAME_WORD =
            java.util.regex.Pattern.compile(
                    "\\p{Lu}(?:\\p{Ll}+|'\\p{Lu}\\p{Ll}+)(?:-\\p{Lu}\\p{Ll}+)*");

    /**
     * Shape checks the model cannot learn from the synthetic data, for chat text: a name or place
     * starts with a letter; contains no function word, greeting or interjection ({@link
     * #STOP_WORDS}: "It", "Thanks", "However" at a sentence start); is not the name of an
     * {@code @handle} in the same text ("@Sprint ... Sprint"); a person's name has no all-capital
     * token (CODE, RDR), no inner capital (YouTube) and does not end in a single letter ("Radeon
     * R") and is not made of common words only ("Paper", "Premiere Pro"); a place has no
     * all-capital token longer than 3 letters.
     */
    boolean plausible(String type, String text, String[] words, int from, int to, Span[] tokens) {
        boolean person = "PERSON".equals(type);
        boolean place = "GPE".equals(type);
        if (!person && !place) {
            return true;
        }
        if (!Character.isLetter(words[from].charAt(0))) {
            return false;
        }
        StringBuilder joined = new StringBuilder();
        boolean allCommon = true;
        for (int i = from; i < to; i++) {
            String w = words[i];
            if (w.length() > 1 && Character.isLetter(w.charAt(0))) {
                allCommon &= common(w.toLowerCase(java.util.Locale.ROOT));
            }
            if (STOP_WORDS.contains(w.toLowerCase(java.util.Locale.ROOT))) {
                return false;
            }
            boolean letters = w.chars().allMatch(Character::isLetter);
            boolean allCaps = letters && w.chars().noneMatch(Character::isLowerCase);
            if (person && allCaps && w.length() >= 2) {
                return false;
            }
            if (place && allCaps && w.length() > 3) {
                return false;
            }
            if (person && letters && innerCapital(w)) {
                return false;
            }
            if (Character.isLetterOrDigit(w.charAt(0))) {
                joined.append(w);
            }
        }
        if (person && allCommon && !commonWords.isEmpty()) {
            return false;
        }
        if (productOrOrganisation(person, text, words, from, to, tokens)) {
            return false;
        }
        if (person) {
            int last = to - 1;
            if (last > from && ".".equals(words[last])) {
                last--;
            }
            if (last > from && words[last].length() == 1) {
                return false;
            }
        }
        String name = joined.toString();
        int at = text.indexOf('@');
        while (at >= 0) {
            int end = at + 1;
            while (end < text.length()
                    && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')) {
                end++;
            }
            if (end - at - 1 == name.length()
                    && text.regionMatches(true, at + 1, name, 0, name.length())) {
                return false;
            }
            at = text.indexOf('@', end);
        }
        return true;
    }

    /**
     * Whether a common word's plural or inflected form: "tomatoes", "chopped", "lending" (the
     * common-word list holds the forms seen in the vocabulary files, mostly the base forms).
     */
    private boolean common(String lower) {
        if (commonWords.contains(lower)) {
            return true;
        }
        int n = lower.length();
        // English plurals in -es follow o, s, x, z, ch, sh ("tomatoes"; not "James" from "jam").
        if (n > 4
                && lower.endsWith("es")
                && "osxzh".indexOf(lower.charAt(n - 3)) >= 0
                && commonWords.contains(lower.substring(0, n - 2))) {
            return true;
        }
        if (n > 3
                && lower.endsWith("s")
                && !lower.endsWith("ss")
                && commonWords.contains(lower.substring(0, n - 1))) {
            return true;
        }
        for (String suffix : new String[] {"ed", "ing"}) {
            if (n > suffix.length() + 2 && lower.endsWith(suffix)) {
                String stem = lower.substring(0, n - suffix.length());
                int m = stem.length();
                if (commonWords.contains(stem)
                        || commonWords.contains(stem + "e")
                        || (m > 2
                                && stem.charAt(m - 1) == stem.charAt(m - 2)
                                && commonWords.contains(stem.substring(0, m - 1)))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Product, brand and organisation names that chat text mentions far more often than the
     * synthetic training data: a span containing a brand ({@link #BRANDS}: "Google Takeout",
     * "Microsoft Authenticator") or a product/organisation head noun ({@link #ORG_HEADS}: "Creative
     * Commons"), a word with a suffix of abstract or technical nouns ("Collaboration", "Malware",
     * "Authenticator"), a span followed by such a head noun ("Home Lending Team", "Grand Theft
     * Auto") or by a sequel or version number ("Knack 2"). Person names with these words exist (a
     * surname "Banks"), but in customer chat the product reading wins.
     */
    private static boolean productOrOrganisation(
            boolean person, String text, String[] words, int from, int to, Span[] tokens) {
        for (int i = from; i < to; i++) {
            String lower = words[i].toLowerCase(java.util.Locale.ROOT);
            if (BRANDS.contains(lower) || ORG_HEADS.contains(lower)) {
                return true;
            }
            for (String suffix : NOUN_SUFFIXES) {
                if (lower.length() > suffix.length() + 2 && lower.endsWith(suffix)) {
                    return true;
                }
            }
        }
        if (to < words.length && tokens[to].getStart() <= tokens[to - 1].getEnd() + 1) {
            String next = words[to];
            boolean spaced = tokens[to].getStart() == tokens[to - 1].getEnd() + 1;
            if (spaced
                    && Character.isUpperCase(next.charAt(0))
                    && ORG_HEADS.contains(next.toLowerCase(java.util.Locale.ROOT))) {
                return true;
            }
            // "Knack 2 in chapter 8", "Grand Theft Auto 5", "RDR2": a title with a sequel number.
            if (next.length() <= 2
                    && next.chars().allMatch(Character::isDigit)
                    && (to + 1 == words.length || !Character.isDigit(words[to + 1].charAt(0)))) {
                return true;
            }
        }
        return false;
    }

    /** Suffixes of abstract and technical nouns that are no first names, surnames or places. */
    private static final String[] NOUN_SUFFIXES = {"tion", "sion", "ware", "ator", "ment", "ness"};

    /**
     * Brands and companies that customers name in support chat (consumer tech, platforms, games,
     * payments, telecoms, banks): a span holding one is a product or company, not a person or
     * place. Single words that are not also common first names or surnames.
     */
    static final java.util.Set<String> BRANDS =
            java.util.Set.of(
                    "google",
                    "microsoft",
                    "apple",
                    "amazon",
                    "adobe",
                    "yahoo",
                    "facebook",
                    "twitter",
                    "instagram",
                    "whatsapp",
                    "youtube",
                    "netflix",
                    "spotify",
                    "samsung",
                    "sony",
                    "xbox",
                    "playstation",
                    "nintendo",
                    "steam",
                    "android",
                    "iphone",
                    "ipad",
                    "windows",
                    "outlook",
                    "gmail",
                    "hotmail",
                    "paypal",
                    "visa",
                    "mastercard",
                    "uber",
                    "airbnb",
                    "ebay",
                    "tesla",
                    "verizon",
                    "comcast",
                    "xfinity",
                    "vodafone",
                    "hulu",
                    "disney",
                    "mojang",
                    "minecraft",
                    "rockstar",
                    "fortnite",
                    "epic",
                    "linkedin",
                    "tiktok",
                    "snapchat",
                    "zoom",
                    "skype",
                    "dropbox",
                    "oracle",
                    "ibm",
                    "intel",
                    "nvidia",
                    "dell",
                    "lenovo",
                    "huawei",
                    "xiaomi",
                    "nokia",
                    "motorola",
                    "fargo",
                    "citibank",
                    "hsbc",
                    "barclays",
                    "santander",
                    "revolut",
                    "venmo",
                    "coinbase",
                    "chrome",
                    "firefox",
                    "safari",
                    "office",
                    "photoshop",
                    "premiere",
                    "lightroom",
                    "acrobat",
                    "alexa",
                    "kindle",
                    "siri",
                    "icloud",
                    "itunes");

    /**
     * Head nouns of product, service and organisation names ("... Team", "... Store", "...
     * Commons", "... Auto"): a span holding one, or followed by one, is no person or place.
     */
    static final java.util.Set<String> ORG_HEADS =
            java.util.Set.of(
                    "team",
                    "app",
                    "apps",
                    "store",
                    "support",
                    "bank",
                    "banking",
                    "services",
                    "service",
                    "center",
                    "centre",
                    "inc",
                    "ltd",
                    "llc",
                    "corp",
                    "corporation",
                    "company",
                    "group",
                    "studio",
                    "studios",
                    "games",
                    "online",
                    "edition",
                    "cloud",
                    "commons",
                    "auto",
                    "takeout",
                    "software",
                    "hardware",
                    "antivirus",
                    "browser",
                    "wallet",
                    "pay",
                    "plus",
                    "premium",
                    "mobile",
                    "wireless",
                    "airlines",
                    "airways",
                    "insurance",
                    "mortgage",
                    "finance",
                    "foundation",
                    "university",
                    "college",
                    "academy",
                    "club",
                    "network",
                    "media",
                    "labs",
                    "technologies",
                    "systems",
                    "solutions",
                    "stores",
                    "market",
                    "pharmacy",
                    "hospital");

    private static boolean innerCapital(String w) {
        if (w.startsWith("Mc") || w.startsWith("Mac")) {
            return false;
        }
        for (int i = 1; i < w.length(); i++) {
            if (Character.isUpperCase(w.charAt(i)) && Character.isLowerCase(w.charAt(i - 1))) {
                return true;
            }
        }
        return false;
    }

    /**
     * English function words, greetings and interjections that start chat sentences with a capital
     * letter but are never part of a name or place.
     */
    static final java.util.Set<String> STOP_WORDS =
            java.util.Set.of(
                    "a",
                    "an",
                    "the",
                    "this",
                    "that",
                    "these",
                    "those",
                    "it",
                    "its",
                    "it's",
                    "i",
                    "im",
                    "me",
                    "my",
                    "we",
                    "our",
                    "you",
                    "your",
                    "yours",
                    "he",
                    "she",
                    "they",
                    "them",
                    "their",
                    "his",
                    "her",
                    "him",
                    "us",
                    "is",
                    "are",
                    "was",
                    "were",
                    "be",
                    "been",
                    "am",
                    "do",
                    "does",
                    "did",
                    "have",
                    "has",
                    "had",
                    "can",
                    "could",
                    "would",
                    "should",
                    "might",
                    "must",
                    "shall",
                    "if",
                    "but",
                    "and",
                    "or",
                    "so",
                    "because",
                    "however",
                    "although",
                    "though",
                    "also",
                    "then",
                    "than",
                    "when",
                    "where",
                    "what",
                    "which",
                    "who",
                    "why",
                    "how",
                    "not",
                    "no",
                    "yes",
                    "all",
                    "any",
                    "some",
                    "every",
                    "each",
                    "just",
                    "only",
                    "very",
                    "too",
                    "of",
                    "to",
                    "in",
                    "on",
                    "at",
                    "by",
                    "for",
                    "with",
                    "from",
                    "about",
                    "into",
                    "over",
                    "after",
                    "before",
                    "hi",
                    "hey",
                    "hello",
                    "dear",
                    "thanks",
                    "thank",
                    "thx",
                    "please",
                    "pls",
                    "plz",
                    "sorry",
                    "ok",
                    "okay",
                    "oh",
                    "well",
                    "welcome",
                    "regards",
                    "cheers",
                    "help",
                    "there",
                    "here",
                    "today",
                    "tomorrow",
                    "yesterday",
                    "now",
                    "still",
                    "again",
                    "great",
                    "good",
                    "bad",
                    "new",
                    "lol",
                    "omg",
                    "wtf",
                    "guys",
                    "team",
                    "support",
                    "customer",
                    "service",
                    "account",
                    "app",
                    "update",
                    "upgrade",
                    "version",
                    "order",
                    "email",
                    "phone",
                    "apt",
                    "suite",
                    "unit",
                    "floor",
                    "box");

    /**
     * Finds person names, street addresses and locations in {@code text}.
     *
     * @param text text to analyse
     * @return findings of {@link #TYPES} whose calibrated confidence (the entity's {@code score})
     *     is at least the minimum and the type's floor, in text order; spans right after {@code @}
     *     (a handle) are skipped
     */
    public List<PiiEntity> find(String text) {
        return find(text, null);
    }

    /**
     * Like {@link #find(String)}, and also collects the findings that are not reported because
     * their confidence is below the minimum or their type's floor.
     *
     * @param text text to analyse
     * @param belowFloor receives the unreported findings (with their confidence), or null
     * @return the reported findings, as {@link #find(String)}
     */
    public List<PiiEntity> find(String text, List<PiiEntity> belowFloor) {
        List<PiiEntity> out = new ArrayList<>();
        for (RawSpan r : findRaw(text)) {
            Calibration c = calibration.get(r.type());
            if (c == null || (r.start() > 0 && text.charAt(r.start() - 1) == '@')) {
                continue;
            }
            double confidence = c.confidence(r.probability());
            PiiEntity e =
                    new PiiEntity(
                            r.type(),
                            r.start(),
                            r.end(),
                            confidence,
                            text.substring(r.start(), r.end()));
            if (confidence >= minConfidence && confidence >= floors.getOrDefault(r.type(), 0.0)) {
                out.add(e);
            } else if (belowFloor != null) {
                belowFloor.add(e);
            }
        }
        return out;
    }
}

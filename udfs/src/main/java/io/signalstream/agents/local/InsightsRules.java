package io.signalstream.agents.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keyword/phrase rules that derive {@link Insights} (intent, urgency, suggested actions,
 * escalation, topics) from customer messages. The rules are data: they are read with Jackson from
 * {@value #DEFAULT_RESOURCE}, whose header documents the phrase syntax. Matching is
 * case-insensitive on word boundaries after removing URLs and @mentions; curly apostrophes are
 * normalised to {@code '}.
 *
 * <p>Intents and their Bitext customer-support category mapping (Bitext intent names in
 * parentheses; also in the {@code bitext} field of each rule):
 *
 * <ul>
 *   <li>{@code cancel_order}: ORDER (cancel_order), CANCELLATION_FEE
 *   <li>{@code refund_request}: REFUND (get_refund, track_refund, check_refund_policy)
 *   <li>{@code billing_issue}: INVOICE (check_invoice, get_invoice)
 *   <li>{@code payment_issue}: PAYMENT (payment_issue, check_payment_methods)
 *   <li>{@code delivery_status}: DELIVERY, ORDER (track_order)
 *   <li>{@code change_order}: ORDER (change_order, place_order), SHIPPING_ADDRESS
 *   <li>{@code account_access}: ACCOUNT (all six intents)
 *   <li>{@code subscription}: NEWSLETTER / SUBSCRIPTION
 *   <li>{@code technical_issue}: no Bitext category (app, device, network problems)
 *   <li>{@code contact_request}: CONTACT
 *   <li>{@code product_inquiry}: no Bitext category (how-to and pre-sales questions)
 *   <li>{@code complaint}: FEEDBACK (complaint)
 *   <li>{@code feedback}: FEEDBACK (review)
 *   <li>{@code greeting}, {@code other}: none
 * </ul>
 *
 * <p>Intent: each phrase found scores its number of words, phrases in earlier customer messages are
 * weighted {@code earlierTextWeight}; the best intent of the most specific tier (1 specific, 2
 * generic, 3 greeting) wins. Without any match the intent is {@code complaint} if {@code compound
 * <= complaintFallbackCompound}, else {@code other}.
 *
 * <p>Urgency: level 0-3 (low, medium, high, critical) = max(strongest urgency phrase, the intent's
 * base urgency) plus one per signal: compound &lt;= {@code veryNegativeCompound}, mostly ALL-CAPS
 * text, a run of {@code exclamationRun} "!", or at least {@code followUpMessages} earlier customer
 * messages. It is critical if a critical escalation group (legal, fraud, safety) matched or the sum
 * reaches 4; high at 2; medium at 1. Escalation is required when the urgency is critical or any
 * escalation group (incl. a manager request) matched. Phrases of the latest and the earlier
 * messages both count for urgency, escalation and topics.
 *
 * <p>Each message is normalised and scanned once per call: all phrases of all rules are matched
 * together by a {@link PhraseTrie} (a keyword trie over the phrase heads, after Aho &amp; Corasick
 * 1975), with the same semantics as one word-bounded regex per phrase ({@link
 * #compilePhrase(String)}), and the rules then read the set of phrases found.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class InsightsRules {

    /** Classpath location of the default rules. */
    public static final String DEFAULT_RESOURCE = "/rules/insights-rules.json";

    /** Urgency level names, index = level. */
    public static final List<String> URGENCY_LEVELS = List.of("low", "medium", "high", "critical");

    private static final Pattern LETTER_WORD = Pattern.compile("\\p{L}{2,}");

    private final PhraseTrie trie = new PhraseTrie();
    private final List<IntentRule> intents;
    private final String fallbackIntent;
    private final int fallbackBase;
    private final List<String> fallbackActions;
    private final List<Phrase> highUrgency;
    private final List<Phrase> mediumUrgency;
    private final List<EscalationRule> escalations;
    private final Map<String, List<Phrase>> topics;
    private final Map<String, String> urgencyActions;
    private final double veryNegative;
    private final double complaintFallback;
    private final int allCapsMinWords;
    private final double allCapsMinRatio;
    private final Pattern exclamationRun;
    private final int followUpMessages;
    private final double earlierWeight;
    private final int maxActions;

    /**
     * Creates rules from the bundled {@value #DEFAULT_RESOURCE}.
     *
     * @throws IllegalStateException if the resource is missing or malformed
     */
    public InsightsRules() {
        this(readResource(DEFAULT_RESOURCE));
    }

    /**
     * Creates rules from a parsed rules document with the layout of {@value #DEFAULT_RESOURCE}.
     *
     * @param root the JSON document
     * @throws IllegalStateException if a required field is missing or invalid
     */
    public InsightsRules(JsonNode root) {
        Objects.requireNonNull(root, "root");
        JsonNode t = required(root, "thresholds");
        veryNegative = required(t, "veryNegativeCompound").asDouble();
        complaintFallback = required(t, "complaintFallbackCompound").asDouble();
        allCapsMinWords = required(t, "allCapsMinWords").asInt();
        allCapsMinRatio = required(t, "allCapsMinRatio").asDouble();
        exclamationRun = Pattern.compile("!{" + required(t, "exclamationRun").asInt() + ",}");
        followUpMessages = required(t, "followUpMessages").asInt();
        earlierWeight = required(t, "earlierTextWeight").asDouble();
        maxActions = required(t, "maxActions").asInt();

        List<IntentRule> list = new ArrayList<>();
        for (JsonNode n : required(root, "intents")) {
            list.add(
                    new IntentRule(
                            required(n, "name").asText(),
                            required(n, "tier").asInt(),
                            level(required(n, "baseUrgency").asText()),
                            phrases(required(n, "phrases")),
                            strings(required(n, "actions"))));
        }
        intents = List.copyOf(list);
        JsonNode fb = required(root, "fallback");
        fallbackIntent = required(fb, "name").asText();
        fallbackBase = level(required(fb, "baseUrgency").asText());
        fallbackActions = strings(required(fb, "actions"));
        JsonNode u = required(root, "urgency");
        highUrgency = phrases(required(u, "high"));
        mediumUrgency = phrases(required(u, "medium"));
        List<EscalationRule> esc = new ArrayList<>();
        for (JsonNode n : required(root, "escalation")) {
            esc.add(
                    new EscalationRule(
                            required(n, "name").asText(),
                            required(n, "critical").asBoolean(),
                            phrases(required(n, "phrases")),
                            required(n, "action").asText()));
        }
        escalations = List.copyOf(esc);
        Map<String, String> ua = new LinkedHashMap<>();
        required(root, "urgencyActions")
                .fields()
                .forEachRemaining(e -> ua.put(e.getKey(), e.getValue().asText()));
        urgencyActions = Map.copyOf(ua);
        Map<String, List<Phrase>> tp = new LinkedHashMap<>();
        required(root, "topics")
                .fields()
                .forEachRemaining(e -> tp.put(e.getKey(), phrases(e.getValue())));
        topics = Collections.unmodifiableMap(tp);
        trie.freeze();
    }

    /**
     * Derives insights for the latest customer message.
     *
     * @param latestCustomerText the newest customer message (may be empty)
     * @param earlierCustomerTexts earlier customer messages of the same conversation, oldest first
     *     (may be empty; null elements are ignored)
     * @param sentimentCompound VADER compound score of the latest message, in [-1, 1]
     * @return the insights
     * @throws NullPointerException if a text argument is null
     */
    public Insights analyze(
            String latestCustomerText,
            List<String> earlierCustomerTexts,
            double sentimentCompound) {
        return analyze(latestCustomerText, earlierCustomerTexts, sentimentCompound, null);
    }

    /**
     * Derives insights for the latest customer message with the intent decided elsewhere (e.g. by
     * the learned intent model): urgency, actions and escalation then follow that intent's rule.
     *
     * @param intentOverride the intent to use, or null to pick it by the rules
     * @see #analyze(String, List, double)
     */
    public Insights analyze(
            String latestCustomerText,
            List<String> earlierCustomerTexts,
            double sentimentCompound,
            String intentOverride) {
        Objects.requireNonNull(latestCustomerText, "latestCustomerText");
        Objects.requireNonNull(earlierCustomerTexts, "earlierCustomerTexts");
        BitSet latest = trie.match(normalise(latestCustomerText));
        List<BitSet> earlier = new ArrayList<>();
        for (String s : earlierCustomerTexts) {
            if (s != null) {
                earlier.add(trie.match(normalise(s)));
            }
        }
        List<BitSet> all = new ArrayList<>(earlier);
        all.add(latest);

        IntentRule intent =
                intentOverride != null ? rule(intentOverride) : pickIntent(latest, earlier);
        String intentName =
                intentOverride != null
                        ? intentOverride
                        : intent != null
                                ? intent.name
                                : sentimentCompound <= complaintFallback
                                        ? "complaint"
                                        : fallbackIntent;
        IntentRule effective = intent != null ? intent : rule(intentName);
        int base = effective != null ? effective.baseUrgency : fallbackBase;

        int phraseLevel = anyMatch(highUrgency, all) ? 2 : anyMatch(mediumUrgency, all) ? 1 : 0;
        boolean criticalSignal = false;
        List<EscalationRule> escalated = new ArrayList<>();
        for (EscalationRule e : escalations) {
            if (anyMatch(e.phrases, all)) {
                escalated.add(e);
                criticalSignal |= e.critical;
            }
        }
        int bumps =
                (sentimentCompound <= veryNegative ? 1 : 0)
                        + (isMostlyCaps(latestCustomerText) ? 1 : 0)
                        + (exclamationRun.matcher(latestCustomerText).find() ? 1 : 0)
                        + (earlier.size() >= followUpMessages ? 1 : 0);
        int total = Math.max(phraseLevel, base) + bumps;
        int level = criticalSignal || total >= 4 ? 3 : total >= 2 ? 2 : total >= 1 ? 1 : 0;
        String urgency = URGENCY_LEVELS.get(level);

        Set<String> actions = new LinkedHashSet<>();
        if (urgencyActions.containsKey(urgency)) {
            actions.add(urgencyActions.get(urgency));
        }
        escalated.forEach(e -> actions.add(e.action));
        actions.addAll(effective != null ? effective.actions : fallbackActions);
        List<String> topicNames = new ArrayList<>();
        topics.forEach(
                (name, phrases) -> {
                    if (anyMatch(phrases, all)) {
                        topicNames.add(name);
                    }
                });
        return new Insights(
                intentName,
                urgency,
                actions.stream().limit(maxActions).toList(),
                level == 3 || !escalated.isEmpty(),
                topicNames);
    }

    /** Returns the configured intent names in rule order, followed by the fallback. */
    public List<String> intentNames() {
        List<String> names = new ArrayList<>();
        intents.forEach(i -> names.add(i.name));
        names.add(fallbackIntent);
        return List.copyOf(names);
    }

    private IntentRule pickIntent(BitSet latest, List<BitSet> earlier) {
        IntentRule best = null;
        double bestScore = 0;
        for (IntentRule r : intents) {
            double score = score(r.phrases, latest, 1.0);
            for (BitSet e : earlier) {
                score += score(r.phrases, e, earlierWeight);
            }
            if (score <= 0) {
                continue;
            }
            if (best == null || r.tier < best.tier || (r.tier == best.tier && score > bestScore)) {
                best = r;
                bestScore = score;
            }
        }
        return best;
    }

    private IntentRule rule(String name) {
        return intents.stream().filter(r -> r.name.equals(name)).findFirst().orElse(null);
    }

    private static double score(List<Phrase> phrases, BitSet found, double weight) {
        double s = 0;
        for (Phrase p : phrases) {
            if (found.get(p.id)) {
                s += p.words * weight;
            }
        }
        return s;
    }

    private static boolean anyMatch(List<Phrase> phrases, List<BitSet> texts) {
        for (BitSet t : texts) {
            for (Phrase p : phrases) {
                if (t.get(p.id)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean isMostlyCaps(String text) {
        Matcher m = LETTER_WORD.matcher(dropUrlsAndHandles(text, true));
        int words = 0;
        int caps = 0;
        while (m.find()) {
            words++;
            if (m.group().equals(m.group().toUpperCase(Locale.ROOT))) {
                caps++;
            }
        }
        return caps >= allCapsMinWords && caps >= allCapsMinRatio * words;
    }

    private static String normalise(String text) {
        String s = dropUrlsAndHandles(text, false);
        // curly and modifier apostrophes and backticks to '
        s = s.replace('\u2018', '\'').replace('\u2019', '\'').replace('\u02BC', '\'');
        return s.replace('`', '\'').toLowerCase(Locale.ROOT);
    }

    /**
     * Replaces each URL and handle by one space, in one pass without regex: the result of {@code
     * replaceAll(" ")} with {@code (?i)https?:\s?//\S+|www\.\S+|(?<![\w@])@\w+} (for the phrase
     * text), or with {@code (?i)https?:\s?//\S+|www\.\S+|[@#]\w+} if {@code hashtags} (for the
     * ALL-CAPS count); {@code \w} and {@code \s} are the ASCII classes, case is ignored for ASCII.
     *
     * @return the text itself if nothing was replaced
     */
    static String dropUrlsAndHandles(String text, boolean hashtags) {
        StringBuilder out = null;
        int copied = 0;
        for (int i = 0; i < text.length(); ) {
            int end = urlOrHandleEnd(text, i, hashtags);
            if (end < 0) {
                i++;
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length());
            }
            out.append(text, copied, i).append(' ');
            copied = end;
            i = end;
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    /** End of the URL or handle starting at i, or -1. */
    private static int urlOrHandleEnd(String t, int i, boolean hashtags) {
        int n = t.length();
        char c = t.charAt(i);
        if (startsWithAscii(t, i, "http")) {
            int j = i + 4;
            if (j + 1 < n && (t.charAt(j) == 's' || t.charAt(j) == 'S') && t.charAt(j + 1) == ':') {
                j++;
            }
            if (j >= n || t.charAt(j) != ':') {
                return -1;
            }
            j++;
            if (j < n && isAsciiSpace(t.charAt(j))) {
                j++;
            }
            return t.startsWith("//", j) ? nonSpaceRunEnd(t, j + 2) : -1;
        }
        if (startsWithAscii(t, i, "www.")) {
            return nonSpaceRunEnd(t, i + 4);
        }
        if (c == '@' || (hashtags && c == '#')) {
            if (!hashtags && i > 0 && (isAsciiWord(t.charAt(i - 1)) || t.charAt(i - 1) == '@')) {
                return -1;
            }
            int j = i + 1;
            while (j < n && isAsciiWord(t.charAt(j))) {
                j++;
            }
            return j > i + 1 ? j : -1;
        }
        return -1;
    }

    /** End of the run of at least one non-space character from j ({@code \S+}), or -1. */
    private static int nonSpaceRunEnd(String t, int j) {
        int k = j;
        while (k < t.length() && !isAsciiSpace(t.charAt(k))) {
            k++;
        }
        return k > j ? k : -1;
    }

    /** ASCII case-insensitive test that t has the lower-case ASCII word at i. */
    private static boolean startsWithAscii(String t, int i, String lower) {
        if (i + lower.length() > t.length()) {
            return false;
        }
        for (int k = 0; k < lower.length(); k++) {
            char c = t.charAt(i + k);
            char want = lower.charAt(k);
            boolean letter = want >= 'a' && want <= 'z';
            if (c != want && !(letter && c == want - 32)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    private static boolean isAsciiWord(char c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == '_';
    }

    /**
     * Compiles one phrase of the rule syntax ({@code *} suffix wildcard, {@code ..} gap of 0-3
     * words, optional apostrophes) to a word-bounded regex over lower-cased text. This is the
     * reference definition of a phrase match; {@link #analyze} uses the equivalent {@link
     * PhraseTrie}, which the tests compare with this regex.
     */
    static Pattern compilePhrase(String phrase) {
        StringBuilder re = new StringBuilder("(?<![\\p{L}\\p{N}])");
        boolean gap = false;
        boolean first = true;
        for (String token : phrase.toLowerCase(Locale.ROOT).trim().split("\\s+")) {
            if (token.equals("..")) {
                gap = true;
                continue;
            }
            if (!first) {
                re.append(gap ? "(?:\\s+\\S+){0,3}?\\s+" : "\\s+");
            }
            boolean prefix = token.endsWith("*");
            String word = prefix ? token.substring(0, token.length() - 1) : token;
            for (String part : word.split("'", -1)) {
                re.append(Pattern.quote(part)).append("'?");
            }
            re.setLength(re.length() - 2);
            if (prefix) {
                re.append("[\\p{L}\\p{N}']*");
            }
            gap = false;
            first = false;
        }
        return Pattern.compile(re.append("(?![\\p{L}\\p{N}])").toString());
    }

    private List<Phrase> phrases(JsonNode array) {
        List<Phrase> out = new ArrayList<>();
        for (JsonNode n : array) {
            String p = n.asText();
            int words =
                    (int)
                            Arrays.stream(p.trim().split("\\s+"))
                                    .filter(w -> !w.equals(".."))
                                    .count();
            out.add(new Phrase(trie.add(p), words));
        }
        return List.copyOf(out);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return List.copyOf(out);
    }

    private static int level(String name) {
        int i = URGENCY_LEVELS.indexOf(name);
        if (i < 0) {
            throw new IllegalStateException("unknown urgency level in rules: " + name);
        }
        return i;
    }

    private static JsonNode required(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalStateException("insights rules: missing field '" + field + "'");
        }
        return v;
    }

    private static JsonNode readResource(String resource) {
        try (InputStream in = InsightsRules.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("insights rules resource not found: " + resource);
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read insights rules " + resource, e);
        }
    }

    private record Phrase(int id, int words) {}

    private record IntentRule(
            String name, int tier, int baseUrgency, List<Phrase> phrases, List<String> actions) {}

    private record EscalationRule(
            String name, boolean critical, List<Phrase> phrases, String action) {}
}

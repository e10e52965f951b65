package io.signalstream.agents.local;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Extractive summarizer for customer-support transcripts.
 *
 * <p>Algorithm:
 *
 * <ol>
 *   <li>Cleaning: URLs (also the "https: //" form of scraped tweets), @mentions, HTML entities and
 *       agent sign-offs such as "*SR" or "^JK" are removed; system turns are ignored. Turns are
 *       split into sentences at line breaks and after {@code . ! ?}.
 *   <li>Ranking: TextRank over sentences (R. Mihalcea and P. Tarau, "TextRank: Bringing Order into
 *       Texts", EMNLP 2004): similarity of two sentences = shared content words / (log|S1| +
 *       log|S2|), weighted PageRank with damping 0.85 until the largest change is below 1e-4 (at
 *       most 100 iterations). Content words are lower-cased letter/digit tokens of two or more
 *       chars that are not in a short English stop list.
 *   <li>Selection: the customer's first problem statement (first customer sentence with a problem
 *       cue: a question mark, a negation, or a word such as "issue", "error", "broken", "stuck",
 *       "hacked", "refund"; else the best-ranked sentence of the first customer turn) is always
 *       taken; then the best ranked sentences with at least {@value #MIN_WORDS} content words that
 *       are not near-duplicates (content-word Jaccard &gt; 0.6) are added while there are fewer
 *       than {@value #MAX_SENTENCES} and the summary stays within {@value #MAX_SUMMARY_CHARS}
 *       chars. Sentences are output in conversation order, with a speaker prefix whenever the
 *       speaker changes and a full stop added where a sentence has no end mark; a single over-long
 *       sentence is cut at a word boundary with "…".
 *   <li>Key points (at most 3, each at most {@value #MAX_KEY_POINT_CHARS} chars): the problem
 *       statement, the best-ranked agent sentence, and the best-ranked sentence of the last turn,
 *       without duplicates.
 *   <li>Resolution status:
 *       <ul>
 *         <li>{@code resolved}: a customer turn after the first agent turn contains a resolution
 *             cue ("that worked", "it worked", "works now", "working now", "working again",
 *             "fixed", "resolved", "sorted", "solved", "all good", "all set", "got it working",
 *             "that helped", "thanks for the help", "thank you for your help") not preceded within
 *             three words by a negation ("not", "never", "no", "still", "n't") and not in a
 *             question; or the last turn is an agent's with a closing cue ("glad to hear", "glad
 *             it's working", "glad we could help", "happy to hear", "great to hear", "happy we
 *             could help").
 *         <li>{@code pending}: otherwise, the last turn is an agent's asking for contact or details
 *             ("DM", "direct message", "private message", "send us", "reach out", "let us know",
 *             "please share", "please provide", "can you", "could you", "tell us", "confirm", "more
 *             details", "submit", "follow us", or a question mark).
 *         <li>{@code unresolved}: everything else.
 *       </ul>
 * </ol>
 *
 * <p>Instances are stateless and thread-safe.
 */
public final class ExtractiveSummarizer {

    /** Maximum summary length in chars. */
    public static final int MAX_SUMMARY_CHARS = 300;

    /** Maximum number of summary sentences. */
    public static final int MAX_SENTENCES = 3;

    /** Maximum key point length in chars. */
    public static final int MAX_KEY_POINT_CHARS = 120;

    /**
     * Minimum words of the problem statement, and minimum content words of the other summary
     * sentences.
     */
    public static final int MIN_WORDS = 3;

    /** TextRank damping factor (Mihalcea and Tarau 2004, after Brin and Page 1998). */
    public static final double DAMPING = 0.85;

    /** Resolution status: customer confirmed the fix. */
    public static final String RESOLVED = "resolved";

    /** Resolution status: agent waits for the customer. */
    public static final String PENDING = "pending";

    /** Resolution status: neither of the above. */
    public static final String UNRESOLVED = "unresolved";

    private static final Pattern URL =
            Pattern.compile(
                    "(?:\\s*[:\u2013-])?\\s*(?:https?:\\s?//|www\\.)\\S+",
                    Pattern.CASE_INSENSITIVE);
    private static final Pattern MENTION = Pattern.compile("(?<![\\w@])@\\w+");
    private static final Pattern SIGN_OFF = Pattern.compile("\\s[*^~]\\s?[A-Z]{1,3}\\s*$");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\x0B\\f\\u00A0]+");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+|\\s*\\n+\\s*");
    private static final Pattern END_PUNCT = Pattern.compile("[.!?\u2026]$");
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}']+");
    private static final Pattern TRAILING_PUNCT = Pattern.compile("[\\s:;,\u2013-]+$");
    private static final Pattern BLANKS_AROUND_NEWLINE = Pattern.compile(" *\\n *");
    private static final Pattern LEADING_PUNCT = Pattern.compile("^[\\s,:;.-]+");
    private static final Pattern PROBLEM =
            Pattern.compile(
                    "\\?|n't\\b|\\b(?:not|no|never|cannot|cant|unable|issue|issues|problem|problems|"
                        + "error|errors|broken|wrong|fail\\w*|crash\\w*|stuck|missing|lost|still|"
                        + "suspended|banned|blocked|hacked|charged|refund|cancel\\w*)\\b",
                    Pattern.CASE_INSENSITIVE);
    private static final Pattern RESOLVED_CUE =
            Pattern.compile(
                    "\\b(?:that worked|it worked|works now|working now|working"
                        + " again|fixed|resolved|sorted|solved|all good|all set|got it working|that"
                        + " helped|thanks for the help|thank you for your help)\\b",
                    Pattern.CASE_INSENSITIVE);
    private static final Pattern NEGATION_BEFORE =
            Pattern.compile(
                    "(?:\\b(?:not|never|no|still)|n't)(?:\\s+\\S+){0,2}\\s*$",
                    Pattern.CASE_INSENSITIVE);
    private static final Pattern AGENT_CLOSING =
            Pattern.compile(
                    "\\b(?:glad to hear|glad it's working|glad it is working|glad we could help|"
                            + "happy to hear|great to hear|happy we could help)\\b",
                    Pattern.CASE_INSENSITIVE);
    private static final Pattern AGENT_REQUEST =
            Pattern.compile(
                    "\\?|\\b(?:dm|dms|direct message|private message|send us|reach out|let us know|"
                            + "please share|please provide|can you|could you|tell us|confirm|"
                            + "more details|submit|follow us)\\b",
                    Pattern.CASE_INSENSITIVE);

    /** Short English stop list (subset of the SMART / NLTK lists) plus chat fillers. */
    private static final Set<String> STOP =
            Set.of(
                    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are",
                    "as", "at", "be", "been", "before", "being", "but", "by", "can", "could", "did",
                    "do", "does", "doing", "for", "from", "get", "got", "had", "has", "have",
                    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "i'm", "i've",
                    "if", "in", "into", "is", "it", "it's", "its", "just", "let", "me", "more",
                    "my", "of", "on", "once", "only", "or", "other", "our", "out", "over", "please",
                    "so", "some", "such", "than", "that", "the", "their", "them", "then", "there",
                    "these", "they", "this", "those", "to", "too", "up", "us", "very", "was", "we",
                    "we're", "were", "what", "when", "where", "which", "while", "who", "why",
                    "will", "with", "would", "you", "you're", "your", "yours", "hi", "hello", "hey",
                    "thanks", "thank", "dear", "amp", "ok", "okay");

    /**
     * Summarizes a transcript.
     *
     * @param transcript turns in conversation order; system turns and blank texts are ignored
     * @return the summary; an empty summary with status {@code unresolved} if nothing remains
     * @throws NullPointerException if the transcript or one of its turns is null
     */
    public Summary summarize(List<Turn> transcript) {
        Objects.requireNonNull(transcript, "transcript");
        List<Turn> turns = new ArrayList<>();
        List<String> cleanedTurns = new ArrayList<>();
        List<Sentence> sentences = new ArrayList<>();
        for (Turn turn : transcript) {
            Objects.requireNonNull(turn, "turn");
            if (!turn.isCustomer() && !turn.isAgent()) {
                continue;
            }
            String cleaned = clean(turn.text());
            if (cleaned.isEmpty()) {
                continue;
            }
            turns.add(turn);
            cleanedTurns.add(cleaned);
            for (String s : SENTENCE_END.split(cleaned)) {
                s = TRAILING_PUNCT.matcher(s.strip()).replaceAll("");
                if (!s.isEmpty() && WORD.matcher(s).find()) {
                    sentences.add(
                            new Sentence(
                                    sentences.size(),
                                    turns.size() - 1,
                                    turn.isCustomer(),
                                    s,
                                    contentWords(s),
                                    wordCount(s)));
                }
            }
        }
        if (sentences.isEmpty()) {
            return new Summary("", List.of(), UNRESOLVED);
        }
        double[] rank = textRank(sentences);
        List<Sentence> byRank = new ArrayList<>(sentences);
        byRank.sort(
                Comparator.comparingDouble((Sentence s) -> -rank[s.index])
                        .thenComparingInt(s -> s.index));

        Sentence problem = problemStatement(sentences, byRank);
        List<Sentence> chosen = new ArrayList<>();
        if (problem != null) {
            chosen.add(problem);
        }
        for (Sentence s : byRank) {
            if (chosen.size() >= MAX_SENTENCES) {
                break;
            }
            if (chosen.contains(s)
                    || s.content.size() < MIN_WORDS
                    || chosen.stream().anyMatch(c -> jaccard(c.content, s.content) > 0.6)) {
                continue;
            }
            List<Sentence> trial = new ArrayList<>(chosen);
            trial.add(s);
            if (chosen.isEmpty() || render(trial).length() <= MAX_SUMMARY_CHARS) {
                chosen.add(s);
            }
        }
        String summary = truncate(render(chosen), MAX_SUMMARY_CHARS);

        List<Sentence> points = new ArrayList<>();
        if (problem != null) {
            points.add(problem);
        }
        byRank.stream().filter(s -> !s.customer).findFirst().ifPresent(points::add);
        int lastTurn = turns.size() - 1;
        byRank.stream().filter(s -> s.turn == lastTurn).findFirst().ifPresent(points::add);
        List<String> keyPoints =
                points.stream()
                        .distinct()
                        .sorted(Comparator.comparingInt(s -> s.index))
                        .map(s -> truncate(prefix(s) + s.text, MAX_KEY_POINT_CHARS))
                        .limit(3)
                        .toList();
        return new Summary(summary, keyPoints, resolution(turns, cleanedTurns));
    }

    /** Applies the resolution rules of the class documentation to the non-system turns. */
    static String resolution(List<Turn> turns) {
        List<String> cleaned = new ArrayList<>(turns.size());
        turns.forEach(t -> cleaned.add(clean(t.text())));
        return resolution(turns, cleaned);
    }

    /** {@link #resolution(List)} with each turn's {@link #clean} text, index for index. */
    private static String resolution(List<Turn> turns, List<String> cleaned) {
        boolean agentSeen = false;
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (t.isAgent()) {
                agentSeen = true;
            } else if (agentSeen && hasResolvedCue(cleaned.get(i))) {
                return RESOLVED;
            }
        }
        if (turns.isEmpty()) {
            return UNRESOLVED;
        }
        Turn last = turns.get(turns.size() - 1);
        if (last.isAgent()) {
            String text = cleaned.get(turns.size() - 1);
            if (AGENT_CLOSING.matcher(text).find()) {
                return RESOLVED;
            }
            if (AGENT_REQUEST.matcher(text).find()) {
                return PENDING;
            }
        }
        return UNRESOLVED;
    }

    private static boolean hasResolvedCue(String text) {
        for (String sentence : SENTENCE_END.split(text)) {
            if (sentence.strip().endsWith("?")) {
                continue;
            }
            Matcher m = RESOLVED_CUE.matcher(sentence);
            while (m.find()) {
                if (!NEGATION_BEFORE.matcher(sentence.substring(0, m.start())).find()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Sentence problemStatement(List<Sentence> sentences, List<Sentence> byRank) {
        Sentence firstCustomer =
                sentences.stream().filter(s -> s.customer).findFirst().orElse(null);
        if (firstCustomer == null) {
            return null;
        }
        for (Sentence s : sentences) {
            if (s.customer && s.words >= MIN_WORDS && PROBLEM.matcher(s.text).find()) {
                return s;
            }
        }
        return byRank.stream()
                .filter(s -> s.turn == firstCustomer.turn)
                .findFirst()
                .orElse(firstCustomer);
    }

    /** Weighted PageRank over the sentence similarity graph (Mihalcea and Tarau 2004, eq. 2). */
    private static double[] textRank(List<Sentence> sentences) {
        int n = sentences.size();
        double[][] w = new double[n][n];
        double[] outSum = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double sim = similarity(sentences.get(i).content, sentences.get(j).content);
                w[i][j] = sim;
                w[j][i] = sim;
                outSum[i] += sim;
                outSum[j] += sim;
            }
        }
        double[] score = new double[n];
        Arrays.fill(score, 1.0);
        for (int iter = 0; iter < 100; iter++) {
            double[] next = new double[n];
            double delta = 0;
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    if (w[j][i] > 0) {
                        sum += w[j][i] / outSum[j] * score[j];
                    }
                }
                next[i] = (1 - DAMPING) + DAMPING * sum;
                delta = Math.max(delta, Math.abs(next[i] - score[i]));
            }
            score = next;
            if (delta < 1e-4) {
                break;
            }
        }
        return score;
    }

    private static double similarity(Set<String> a, Set<String> b) {
        if (a.size() < 2 && b.size() < 2) {
            return 0.0;
        }
        int common = 0;
        for (String x : a) {
            if (b.contains(x)) {
                common++;
            }
        }
        double denominator = Math.log(Math.max(a.size(), 1)) + Math.log(Math.max(b.size(), 1));
        return common == 0 || denominator <= 0 ? 0.0 : common / denominator;
    }

    private static double jaccard(Set<String> a, Set<String> b) {
        if (a.isEmpty() || b.isEmpty()) {
            return 0.0;
        }
        Set<String> inter = new HashSet<>(a);
        inter.retainAll(b);
        return (double) inter.size() / (a.size() + b.size() - inter.size());
    }

    /** Removes URLs, mentions, HTML entities and sign-offs; collapses blanks per line. */
    static String clean(String text) {
        // Each pattern is only run if the text has a character it needs (exact shortcuts).
        String s = mayHaveUrl(text) ? URL.matcher(text).replaceAll(" ") : text;
        s = s.indexOf('@') >= 0 ? MENTION.matcher(s).replaceAll(" ") : s;
        if (s.indexOf('&') >= 0) {
            s =
                    s.replace("&amp;", "&")
                            .replace("&lt;", "<")
                            .replace("&gt;", ">")
                            .replace("&quot;", "\"")
                            .replace("&#39;", "'");
        }
        if (s.indexOf('*') >= 0 || s.indexOf('^') >= 0 || s.indexOf('~') >= 0) {
            s = SIGN_OFF.matcher(s).replaceAll("");
        }
        if (hasBlankRun(s)) {
            s = SPACES.matcher(s).replaceAll(" ");
        }
        if (s.indexOf('\n') >= 0) {
            s = BLANKS_AROUND_NEWLINE.matcher(s).replaceAll("\n");
        }
        if (!s.isEmpty() && " \t\n\u000B\f\r,:;.-".indexOf(s.charAt(0)) >= 0) {
            s = LEADING_PUNCT.matcher(s).replaceAll("");
        }
        return s.strip();
    }

    /** True if SPACES would change the text: two blanks in a row, or a blank other than ' '. */
    private static boolean hasBlankRun(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\t' || c == '\u000B' || c == '\f' || c == '\u00A0') {
                return true;
            }
            if (c == ' ' && i + 1 < s.length() && s.charAt(i + 1) == ' ') {
                return true;
            }
        }
        return false;
    }

    /** True if the text may contain "http" or "www." (ASCII case-insensitive), as URL needs. */
    static boolean mayHaveUrl(String text) {
        for (int i = 0; i + 4 <= text.length(); i++) {
            char c = (char) (text.charAt(i) | 0x20);
            if ((c == 'h' && text.regionMatches(true, i, "http", 0, 4))
                    || (c == 'w' && text.regionMatches(true, i, "www.", 0, 4))) {
                return true;
            }
        }
        return false;
    }

    private static Set<String> contentWords(String sentence) {
        Set<String> out = new HashSet<>();
        String s = sentence.toLowerCase(Locale.ROOT).replace('\u2019', '\'');
        for (int start = wordStart(s, 0); start < s.length(); ) {
            int end = wordEnd(s, start);
            if (end - start >= 2) {
                String w = s.substring(start, end);
                if (!STOP.contains(w)) {
                    out.add(w);
                }
            }
            start = wordStart(s, end);
        }
        return out;
    }

    private static int wordCount(String sentence) {
        int n = 0;
        for (int start = wordStart(sentence, 0); start < sentence.length(); ) {
            n++;
            start = wordStart(sentence, wordEnd(sentence, start));
        }
        return n;
    }

    /** Start of the next {@link #WORD} match at or after i, or the text length. */
    private static int wordStart(String s, int i) {
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (isWordChar(cp)) {
                return i;
            }
            i += Character.charCount(cp);
        }
        return s.length();
    }

    /** End of the {@link #WORD} match starting at i. */
    private static int wordEnd(String s, int i) {
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!isWordChar(cp)) {
                return i;
            }
            i += Character.charCount(cp);
        }
        return i;
    }

    /** {@code [\p{L}\p{N}']}, a character of {@link #WORD}. */
    private static boolean isWordChar(int cp) {
        return cp == '\'' || PhraseTrie.isLetterOrDigit(cp);
    }

    private static String render(List<Sentence> chosen) {
        StringBuilder sb = new StringBuilder();
        Boolean lastCustomer = null;
        for (Sentence s : chosen.stream().sorted(Comparator.comparingInt(x -> x.index)).toList()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            if (lastCustomer == null || lastCustomer != s.customer) {
                sb.append(prefix(s));
            }
            sb.append(s.text);
            if (!END_PUNCT.matcher(s.text).find()) {
                sb.append('.');
            }
            lastCustomer = s.customer;
        }
        return sb.toString();
    }

    private static String prefix(Sentence s) {
        return s.customer ? "Customer: " : "Agent: ";
    }

    private static String truncate(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        int cut = s.lastIndexOf(' ', max - 1);
        if (cut < max / 2) {
            cut = max - 1;
        }
        return s.substring(0, cut).stripTrailing() + "…";
    }

    private record Sentence(
            int index, int turn, boolean customer, String text, Set<String> content, int words) {}
}

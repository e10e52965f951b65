package io.signalstream.agents.local;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * All phrases of the {@link InsightsRules} syntax matched in one pass over a text, instead of one
 * regex per phrase.
 *
 * <p>Algorithm: the head of each phrase (its first word up to the first character that is not a
 * letter or digit, e.g. {@code refund} for {@code refund*}, {@code can} for {@code can't}) is
 * stored in a keyword trie (the goto function of Aho &amp; Corasick, "Efficient string matching: an
 * aid to bibliographic search", CACM 18(6), 1975). Because a phrase can only start where a word
 * starts (a letter or digit not preceded by one), no failure links are needed: the text is scanned
 * once, and from each word start the trie is walked along the text; every phrase whose head ends on
 * the path is then verified in place, word by word, against the whitespace-separated chunks that
 * follow. Cost per text: O(length of the text + trie path lengths + verified candidates). A plain
 * keyword automaton (such as the org.ahocorasick library) matches fixed strings only, not the
 * rules' {@code *} continuations, {@code ..} gaps and optional apostrophes, hence this small trie
 * with in-place verification.
 *
 * <p>Semantics (identical to the per-phrase regex of {@link InsightsRules#compilePhrase(String)},
 * which the tests compare it with on real messages): the text is expected lower-cased; a phrase
 * matches where its first word starts after a character that is not a letter or digit ({@code
 * \p{L}\p{N}}); words are separated by whitespace ({@code [ \t\n\x0B\f\r]+}); a word's apostrophes
 * are optional; a word ending in {@code *} continues with any letters, digits and apostrophes;
 * {@code ..} between two words skips 0-3 whitespace-separated chunks; the last word must not be
 * followed by a letter or digit.
 *
 * <p>Build with {@link #add(String)}, then call {@link #freeze()} once; a frozen trie is immutable
 * and thread-safe.
 */
final class PhraseTrie {

    private final List<Compiled> phrases = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private final Builder root = new Builder();
    private Node frozen;

    /**
     * Adds a phrase, or returns the id of an equal phrase added before.
     *
     * @param phrase a phrase of the rules syntax; its first word must start with a letter or digit
     * @return the phrase id, 0-based in order of first addition
     * @throws IllegalStateException if the trie is frozen or the phrase is empty or malformed
     */
    int add(String phrase) {
        if (frozen != null) {
            throw new IllegalStateException("phrase trie is frozen");
        }
        String key = phrase.toLowerCase(Locale.ROOT).trim();
        Integer known = ids.get(key);
        if (known != null) {
            return known;
        }
        List<String> words = new ArrayList<>();
        List<Boolean> prefix = new ArrayList<>();
        List<Boolean> gap = new ArrayList<>();
        boolean pendingGap = false;
        for (String token : key.split("\\s+")) {
            if (token.equals("..")) {
                pendingGap = true;
                continue;
            }
            boolean p = token.endsWith("*");
            String w = p ? token.substring(0, token.length() - 1) : token;
            if (w.isEmpty()) {
                throw new IllegalStateException("insights rules: empty word in phrase " + phrase);
            }
            words.add(w);
            prefix.add(p);
            gap.add(pendingGap && !words.isEmpty());
            pendingGap = false;
        }
        if (words.isEmpty() || !isLetterOrDigit(words.get(0).codePointAt(0))) {
            throw new IllegalStateException(
                    "insights rules: a phrase must start with a letter or digit: " + phrase);
        }
        String first = words.get(0);
        int h = 0;
        while (h < first.length() && isLetterOrDigit(first.charAt(h))) {
            h++;
        }
        int id = phrases.size();
        boolean[] pf = new boolean[words.size()];
        boolean[] gp = new boolean[words.size()];
        for (int i = 0; i < pf.length; i++) {
            pf[i] = prefix.get(i);
            gp[i] = i > 0 && gap.get(i);
        }
        phrases.add(new Compiled(words.toArray(String[]::new), pf, gp));
        ids.put(key, id);
        Builder node = root;
        for (int i = 0; i < h; i++) {
            node = node.children.computeIfAbsent(first.charAt(i), c -> new Builder());
        }
        node.ids.add(id);
        return id;
    }

    /** Number of distinct phrases added. */
    int size() {
        return phrases.size();
    }

    /** Freezes the trie; later {@link #add} calls fail. Returns this. */
    PhraseTrie freeze() {
        if (frozen == null) {
            frozen = root.build();
        }
        return this;
    }

    /**
     * Finds every phrase that occurs in a text.
     *
     * @param text lower-cased text
     * @return the ids of the phrases found (a new set)
     * @throws IllegalStateException if the trie is not frozen
     */
    BitSet match(String text) {
        if (frozen == null) {
            throw new IllegalStateException("phrase trie is not frozen");
        }
        BitSet found = new BitSet(phrases.size());
        int n = text.length();
        boolean previousWordChar = false;
        for (int i = 0; i < n; ) {
            int cp = text.codePointAt(i);
            boolean wordChar = isLetterOrDigit(cp);
            if (wordChar && !previousWordChar) {
                Node node = frozen;
                for (int j = i; ; j++) {
                    for (int id : node.ids) {
                        if (!found.get(id) && matchWord(phrases.get(id), 0, 0, text, i)) {
                            found.set(id);
                        }
                    }
                    if (j >= n || (node = node.child(text.charAt(j))) == null) {
                        break;
                    }
                }
            }
            previousWordChar = wordChar;
            i += Character.charCount(cp);
        }
        return found;
    }

    /** Matches word {@code w} of a phrase from its character {@code k} at text position pos. */
    private static boolean matchWord(Compiled p, int w, int k, String t, int pos) {
        String word = p.words[w];
        while (k < word.length()) {
            char c = word.charAt(k);
            if (c == '\'') {
                // an optional apostrophe: first with it (as the greedy regex), then without
                if (pos < t.length()
                        && t.charAt(pos) == '\''
                        && matchWord(p, w, k + 1, t, pos + 1)) {
                    return true;
                }
                k++;
                continue;
            }
            if (pos >= t.length() || t.charAt(pos) != c) {
                return false;
            }
            k++;
            pos++;
        }
        return afterWord(p, w, t, pos);
    }

    private static boolean afterWord(Compiled p, int w, String t, int end) {
        int n = t.length();
        boolean last = w == p.words.length - 1;
        if (p.prefix[w]) {
            while (end < n) {
                int cp = t.codePointAt(end);
                if (cp != '\'' && !isLetterOrDigit(cp)) {
                    break;
                }
                end += Character.charCount(cp);
            }
            if (last) {
                return true;
            }
        } else if (last) {
            return end >= n || !isLetterOrDigit(t.codePointAt(end));
        }
        if (end >= n || !isSpace(t.charAt(end))) {
            return false;
        }
        int q = skipSpaces(t, end);
        if (!p.gapBefore[w + 1]) {
            return q < n && matchWord(p, w + 1, 0, t, q);
        }
        for (int skipped = 0; skipped <= 3 && q < n; skipped++) {
            if (matchWord(p, w + 1, 0, t, q)) {
                return true;
            }
            int r = q;
            while (r < n && !isSpace(t.charAt(r))) {
                r++;
            }
            if (r >= n) {
                return false;
            }
            q = skipSpaces(t, r);
        }
        return false;
    }

    private static int skipSpaces(String t, int i) {
        while (i < t.length() && isSpace(t.charAt(i))) {
            i++;
        }
        return i;
    }

    /** {@code \s} of java.util.regex without UNICODE_CHARACTER_CLASS. */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    /** {@code [\p{L}\p{N}]}: a letter, or a decimal, letter or other number. */
    static boolean isLetterOrDigit(int cp) {
        if (cp < 0x80) {
            return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
        }
        if (Character.isLetter(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER
                || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    private record Compiled(String[] words, boolean[] prefix, boolean[] gapBefore) {}

    private static final class Builder {
        final TreeMap<Character, Builder> children = new TreeMap<>();
        final List<Integer> ids = new ArrayList<>();

        Node build() {
            char[] keys = new char[children.size()];
            Node[] kids = new Node[children.size()];
            int i = 0;
            for (Map.Entry<Character, Builder> e : children.entrySet()) {
                keys[i] = e.getKey();
                kids[i++] = e.getValue().build();
            }
            return new Node(keys, kids, ids.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    private record Node(char[] keys, Node[] kids, int[] ids) {
        Node child(char c) {
            int lo = 0;
            int hi = keys.length - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (keys[mid] < c) {
                    lo = mid + 1;
                } else if (keys[mid] > c) {
                    hi = mid - 1;
                } else {
                    return kids[mid];
                }
            }
            return null;
        }
    }
}

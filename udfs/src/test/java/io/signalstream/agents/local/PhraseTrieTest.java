package io.signalstream.agents.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link PhraseTrie} against the reference regex of {@link InsightsRules#compilePhrase(String)}:
 * every phrase of the bundled rules on every real message (IBM TWCC conversations, Bitext requests)
 * and on edge cases of the syntax must give the same answer.
 */
class PhraseTrieTest {

    private static final List<String> EDGE_CASES =
            List.of(
                    "can't pay",
                    "cant pay",
                    "can''t pay",
                    "can t pay",
                    "i can't, pay",
                    "it won't",
                    "it wont",
                    "cancel, order",
                    "cancel my, last order",
                    "cancel my last big order",
                    "cancel a b c d order",
                    "cancelled orders",
                    "cancel\u00a0order",
                    "cancel\torder\n",
                    "cancel\n\norders!",
                    "refund's policy",
                    "refunds' policy",
                    "refund'",
                    "x-refund",
                    "refund2",
                    "2refund",
                    "\u00b2refund",
                    "r\u00e9fund refund\u00e9",
                    "need it a.s.a.p.",
                    "a.s.a.px",
                    "asap!!",
                    "auto-renewal",
                    "auto renew",
                    "two-factor auth",
                    "wi-fi",
                    "wifi down",
                    "(bill) bill's billion bills",
                    "money  back",
                    "money back2",
                    "doesn't working",
                    "doesnt workx",
                    "early termination fee",
                    "\ud835\udc00refund refund\ud835\udc00",
                    "",
                    " ",
                    "'",
                    "refund");

    @Test
    void sameAnswerAsTheReferenceRegexOnRealMessagesAndEdgeCases() throws Exception {
        List<String> phrases = bundledPhrases();
        assertThat(phrases).hasSizeGreaterThan(300);
        PhraseTrie trie = new PhraseTrie();
        List<Integer> ids = new ArrayList<>();
        List<Pattern> regexes = new ArrayList<>();
        for (String p : phrases) {
            ids.add(trie.add(p));
            regexes.add(InsightsRules.compilePhrase(p));
        }
        trie.freeze();

        Set<String> texts = new LinkedHashSet<>(EDGE_CASES);
        SharedData.conversations().values().forEach(l -> l.forEach(n -> texts.add(text(n))));
        SharedData.readCsv("intent/bitext-public.csv")
                .forEach(r -> texts.add(r.get("instruction")));
        assertThat(texts).hasSizeGreaterThan(5000);

        long matches = 0;
        for (String raw : texts) {
            for (String t : List.of(raw.toLowerCase(Locale.ROOT), raw.replace('\u2019', '\''))) {
                String text = t.toLowerCase(Locale.ROOT);
                BitSet found = trie.match(text);
                for (int i = 0; i < phrases.size(); i++) {
                    boolean want = regexes.get(i).matcher(text).find();
                    assertThat(found.get(ids.get(i)))
                            .as("phrase '%s' in \"%s\"", phrases.get(i), text)
                            .isEqualTo(want);
                    matches += want ? 1 : 0;
                }
            }
        }
        assertThat(matches).isGreaterThan(1000);
    }

    @Test
    void syntax() {
        PhraseTrie trie = new PhraseTrie();
        int cancel = trie.add("cancel .. order*");
        int cant = trie.add("can't pay");
        int asap = trie.add("a.s.a.p");
        assertThat(trie.add("Cancel .. Order*")).isEqualTo(cancel);
        assertThat(trie.size()).isEqualTo(3);
        trie.freeze();
        assertThat(trie.match("please cancel my last orders").get(cancel)).isTrue();
        assertThat(trie.match("cancel a b c d order").get(cancel)).isFalse();
        assertThat(trie.match("cancelled orders").get(cancel)).isFalse();
        assertThat(trie.match("i cant pay").get(cant)).isTrue();
        assertThat(trie.match("i can't pay").get(cant)).isTrue();
        assertThat(trie.match("i can't payx").get(cant)).isFalse();
        assertThat(trie.match("reply a.s.a.p!").get(asap)).isTrue();
        assertThatThrownBy(() -> trie.add("refund")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new PhraseTrie().add("'tis"))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new PhraseTrie().match("x"))
                .isInstanceOf(IllegalStateException.class);
    }

    private static String text(JsonNode n) {
        return n.get("message").asText();
    }

    private static List<String> bundledPhrases() throws Exception {
        JsonNode root;
        try (InputStream in =
                InsightsRules.class.getResourceAsStream(InsightsRules.DEFAULT_RESOURCE)) {
            root = new ObjectMapper().readTree(in);
        }
        List<String> out = new ArrayList<>();
        root.get("intents").forEach(i -> i.get("phrases").forEach(p -> out.add(p.asText())));
        root.get("urgency").get("high").forEach(p -> out.add(p.asText()));
        root.get("urgency").get("medium").forEach(p -> out.add(p.asText()));
        root.get("escalation").forEach(e -> e.get("phrases").forEach(p -> out.add(p.asText())));
        for (Map.Entry<String, JsonNode> e : root.get("topics").properties()) {
            e.getValue().forEach(p -> out.add(p.asText()));
        }
        return out;
    }
}

package io.signalstream.agents.local;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link InsightsRules#dropUrlsAndHandles(String, boolean)} against the regexes it replaces, on
 * every real message of the IBM TWCC conversations and Bitext requests and on edge cases.
 */
class UrlAndHandleRemovalTest {

    private static final Pattern URL_OR_MENTION =
            Pattern.compile(
                    "(?:https?:\\s?//\\S+|www\\.\\S+|(?<![\\w@])@\\w+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern MENTION_OR_URL =
            Pattern.compile("(?:https?:\\s?//\\S+|www\\.\\S+|[@#]\\w+)", Pattern.CASE_INSENSITIVE);

    @Test
    void sameAsTheRegexReplacement() {
        List<String> texts =
                new ArrayList<>(
                        List.of(
                                "@TeamYouTube hi https: //www.youtube.com/x see HTTPS://A.B/c",
                                "mail a@b.com or a@@b, @_x, @ alone, #tag #, ##x",
                                "Https:x http:/ https// httpS:\t//y http://",
                                "WWW. www.x WwW.example.org www.",
                                "\u017fhttp://x http\u017f://x \u212aww.x @\u00e9t\u00e9",
                                "",
                                "@",
                                "http"));
        SharedData.conversations()
                .values()
                .forEach(l -> l.forEach(n -> texts.add(n.get("message").asText())));
        SharedData.readCsv("intent/bitext-public.csv")
                .forEach(r -> texts.add(r.get("instruction")));
        int changed = 0;
        for (String t : texts) {
            String want = URL_OR_MENTION.matcher(t).replaceAll(" ");
            assertThat(InsightsRules.dropUrlsAndHandles(t, false)).as(t).isEqualTo(want);
            assertThat(InsightsRules.dropUrlsAndHandles(t, true))
                    .as(t)
                    .isEqualTo(MENTION_OR_URL.matcher(t).replaceAll(" "));
            changed += want.equals(t) ? 0 : 1;
        }
        assertThat(changed).isGreaterThan(500);
    }
}

package io.signalstream.agents.local;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ExtractiveSummarizerTest {

    private final ExtractiveSummarizer summarizer = new ExtractiveSummarizer();

    private static Turn customer(String text) {
        return new Turn("customer", text);
    }

    private static Turn agent(String text) {
        return new Turn("agent", text);
    }

    @Test
    void realConversationLeadsWithTheProblemStatement() {
        // RDR2 stranger missions; agent finally asks for a support ticket
        Summary s = summarizer.summarize(SharedData.transcript("Qt4M3sXkR71V9CT9Xr5U"));
        assertThat(s.summary())
                .startsWith("Customer: On RDR2 it's not letting me accept")
                .contains("Agent: ")
                .doesNotContain("@", "http")
                .hasSizeLessThanOrEqualTo(300);
        assertThat(s.keyPoints()).hasSizeBetween(1, 3);
        assertThat(s.keyPoints().get(0)).contains("not letting me accept stranger missions");
        assertThat(s.resolutionStatus()).isEqualTo("pending");
    }

    @Test
    void longRealConversationStaysWithinLimits() {
        Summary s = summarizer.summarize(SharedData.transcript("btl6ofX5a6TSNB3b3rkV"));
        assertThat(s.summary())
                .startsWith("Customer: adobe crashes on import")
                .hasSizeLessThanOrEqualTo(ExtractiveSummarizer.MAX_SUMMARY_CHARS)
                .doesNotContain("http", "@");
        assertThat(s.keyPoints())
                .hasSize(3)
                .allSatisfy(
                        k ->
                                assertThat(k)
                                        .hasSizeLessThanOrEqualTo(
                                                ExtractiveSummarizer.MAX_KEY_POINT_CHARS));
        assertThat(s.resolutionStatus()).isEqualTo("unresolved");
    }

    @Test
    void everyRealConversationGetsABoundedCleanSummary() {
        for (String id : SharedData.conversations().keySet()) {
            Summary s = summarizer.summarize(SharedData.transcript(id));
            assertThat(s.summary())
                    .as(id)
                    .isNotBlank()
                    .hasSizeLessThanOrEqualTo(300)
                    .doesNotContainPattern("https?:\\s?//|(?<![\\w@])@\\w");
            assertThat(s.keyPoints()).as(id).hasSizeBetween(1, 3);
            assertThat(s.resolutionStatus()).isIn("resolved", "pending", "unresolved");
        }
    }

    @Test
    void resolutionCues() {
        Turn problem = customer("My app keeps crashing when I open it.");
        Turn advice = agent("Please reinstall the app and restart your phone.");
        assertThat(
                        summarizer
                                .summarize(
                                        List.of(problem, advice, customer("Thanks, that worked!")))
                                .resolutionStatus())
                .isEqualTo("resolved");
        assertThat(
                        summarizer
                                .summarize(
                                        List.of(
                                                problem,
                                                advice,
                                                customer("It is still not fixed.")))
                                .resolutionStatus())
                .isEqualTo("unresolved");
        assertThat(
                        summarizer
                                .summarize(
                                        List.of(
                                                problem,
                                                advice,
                                                customer("Will this be fixed soon?")))
                                .resolutionStatus())
                .isEqualTo("unresolved");
        Turn request = agent("Sorry! Please DM us your account email so we can check.");
        assertThat(summarizer.summarize(List.of(problem, request)).resolutionStatus())
                .isEqualTo("pending");
        assertThat(summarizer.summarize(List.of(problem, advice)).resolutionStatus())
                .isEqualTo("unresolved");
        assertThat(
                        summarizer
                                .summarize(
                                        List.of(
                                                problem,
                                                advice,
                                                customer("ok"),
                                                agent("Glad to hear it's working now!")))
                                .resolutionStatus())
                .isEqualTo("resolved");
        // "fixed" before the agent replied is not a resolution
        assertThat(
                        summarizer
                                .summarize(
                                        List.of(
                                                customer("I thought you fixed the login bug."),
                                                advice))
                                .resolutionStatus())
                .isEqualTo("unresolved");
    }

    @Test
    void cleansMentionsUrlsAndSystemTurns() {
        Summary s =
                summarizer.summarize(
                        List.of(
                                new Turn("system", "Conversation started"),
                                customer(
                                        "@Acme my invoice is wrong https://acme.example/inv/1"
                                                + " please check"),
                                agent(
                                        "@bob Sorry about that, we corrected the invoice here: "
                                                + "https://acme.example/help *JK")));
        assertThat(s.summary())
                .isEqualTo(
                        "Customer: my invoice is wrong please check. "
                                + "Agent: Sorry about that, we corrected the invoice here.");
        assertThat(s.summary()).doesNotContain("Conversation started");
    }

    @Test
    void overLongSentenceIsTruncatedAtAWord() {
        String longText =
                "My order has not arrived and "
                        + "the courier keeps saying ".repeat(30)
                        + "tomorrow";
        Summary s = summarizer.summarize(List.of(customer(longText)));
        assertThat(s.summary())
                .hasSizeLessThanOrEqualTo(300)
                .endsWith("…")
                .startsWith("Customer: My order has not arrived");
    }

    @Test
    void emptyTranscript() {
        Summary s = summarizer.summarize(List.of(customer("  "), new Turn("system", "x")));
        assertThat(s.summary()).isEmpty();
        assertThat(s.keyPoints()).isEmpty();
        assertThat(s.resolutionStatus()).isEqualTo("unresolved");
        assertThatThrownBy(() -> summarizer.summarize(null))
                .isInstanceOf(NullPointerException.class);
    }
}

package io.signalstream.llm;

import io.signalstream.agents.local.PiiEntity;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Person names in LLM prompts ({@link AgentPrompt#addPersonNames}, {@link AgentPrompt#render}). */
class AgentPromptRedactionTest {

    @Test
    void aNameIsReplacedOnlyAsAWholeWord() {
        List<PiiEntity> found = new ArrayList<>();
        AgentPrompt.addPersonNames("Danger, Dan! dan Dan2 Dan", Map.of("Dan", 0.9), found);

        assertThat(found).extracting(PiiEntity::start).containsExactly(8, 22);
        assertThat(found).allSatisfy(e -> assertThat(e.type()).isEqualTo("PERSON"));
    }

    @Test
    void theLongerNameWinsAndOverlapsWithEarlierFindingsAreSkipped() {
        String text = "Lilian Surubaru wrote; Hi Lilian, mail lilian@example.org";
        List<PiiEntity> found = new ArrayList<>();
        int mail = text.indexOf("lilian@");
        found.add(new PiiEntity("EMAIL_ADDRESS", mail, text.length(), 0.95, "lilian@example.org"));

        AgentPrompt.addPersonNames(
                text, Map.of("Lilian Surubaru", 0.9, "Lilian", 0.9, "Surubaru", 0.9), found);

        assertThat(found)
                .extracting(PiiEntity::text)
                .containsExactly("lilian@example.org", "Lilian Surubaru", "Lilian");
    }

    @Test
    void aNameFoundInOneMessageIsHiddenInEveryMessageOfThePrompt() {
        // Two real messages of the bundled conversations (lines 495-496): the finder does not
        // see the name standing alone on the customer's last line, but it does in the reply.
        ConversationSnapshot s =
                snapshot(
                        new TranscriptEntry(
                                "m1",
                                "customer",
                                "@Yahoo I expect a quick answer\nrespectfully\nLilian Surubaru",
                                Instant.ofEpochSecond(1)),
                        new TranscriptEntry(
                                "m2",
                                "agent",
                                "@lsurubaru Hi Lilian. Here is why this might happen.",
                                Instant.ofEpochSecond(2)));
        assertThat(AgentPrompt.personNames(s.recentMessages().get(0).message())).isEmpty();
        assertThat(AgentPrompt.personNames(s.lastMessage().message())).containsOnlyKeys("Lilian");

        AgentPrompt.Rendered redacted = AgentPrompt.of("summary").render(s, true);
        AgentPrompt.Rendered raw = AgentPrompt.of("summary").render(s, false);

        assertThat(raw.user()).contains("Lilian Surubaru", "Hi Lilian.");
        // The surname after a propagated first name goes with it.
        assertThat(redacted.user())
                .doesNotContain("Lilian")
                .doesNotContain("Surubaru")
                .contains("respectfully\n<PERSON_1>", "Hi <PERSON_2>.")
                .contains("I expect a quick answer");
        assertThat(redacted.redactions()).isEqualTo(2);
    }

    @Test
    void aSurnameFollowsOnlyWhenItIsNoCommonWord() {
        String text =
                "Lilian Surubaru. Hi Lilian Thanks! Lilian Smith-Jones, Lilian O'Brien. Lilian O";
        List<PiiEntity> found = new ArrayList<>();

        AgentPrompt.addPersonNames(text, Map.of("Lilian", 0.9), found);

        assertThat(found)
                .extracting(PiiEntity::text)
                .containsExactly(
                        "Lilian Surubaru",
                        "Lilian",
                        "Lilian Smith-Jones",
                        "Lilian O'Brien",
                        "Lilian");
    }

    @Test
    void aFirstNameStaysHiddenWhenItsSurnameIsAFindingOfItsOwn() {
        // "Surubaru" (longer) is replaced first; "Lilian" extended by it would overlap, so the
        // first name is replaced alone rather than left in the prompt.
        List<PiiEntity> found = new ArrayList<>();

        AgentPrompt.addPersonNames(
                "Lilian Surubaru here", Map.of("Lilian", 0.9, "Surubaru", 0.9), found);

        assertThat(found)
                .extracting(PiiEntity::text)
                .containsExactlyInAnyOrder("Surubaru", "Lilian");
    }

    @Test
    void commonWordsInANameAreNotHiddenEverywhere() {
        Map<String, Double> names =
                AgentPrompt.names(List.of(new PiiEntity("PERSON", 0, 10, 0.9, "Will Smith")));

        assertThat(names).containsOnlyKeys("Will Smith", "Smith");
    }

    @Test
    void placesAreKept() {
        ConversationSnapshot s =
                snapshot(
                        new TranscriptEntry(
                                "m1",
                                "customer",
                                "Hello, this is Maria Gonzalez. My flight to Italy was cancelled.",
                                Instant.ofEpochSecond(1)));

        String user = AgentPrompt.of("sentiment").render(s, true).user();

        assertThat(user).doesNotContain("Maria").contains("<PERSON_1>", "flight to Italy");
    }

    private static ConversationSnapshot snapshot(TranscriptEntry... turns) {
        List<TranscriptEntry> window = List.of(turns);
        TranscriptEntry last = turns[turns.length - 1];
        return new ConversationSnapshot(
                "acme",
                "c1",
                turns.length,
                turns.length,
                last,
                window,
                turns[0].timestamp(),
                last.timestamp(),
                List.of("pii", "sentiment", "insights", "summary"),
                new SourceRef("test", 0, turns.length));
    }
}

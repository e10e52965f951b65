package io.signalstream.agents;

import io.signalstream.events.ChatMessage;
import io.signalstream.events.SourceRef;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentTriggerTest {

    private static final Instant T0 = Instant.parse("2020-03-27T21:48:19Z");
    private static final Duration GAP = Duration.ofMinutes(5);

    private static ChatMessage message(String sender, Instant ts) {
        // real text from conversation btl6ofX5a6TSNB3b3rkV of ibm-twcc-dev.jsonl
        String text =
                "customer".equals(sender)
                        ? "@AdobeCare I\u2019ve also updated my drivers to see if that was the"
                                + " issue. Which didn\u2019t work"
                        : "@OGYouTubeGod I see! Does it happen with any specific kind of media"
                                + " format?";
        return new ChatMessage(
                "m-" + ts.toEpochMilli(),
                "AdobeCare",
                "btl6ofX5a6TSNB3b3rkV",
                sender,
                text,
                "twitter",
                ts,
                Map.of(),
                new SourceRef("support.messages.raw", 0, 0));
    }

    @ParameterizedTest
    @CsvSource({
        "every-message, EVERY_MESSAGE",
        "customer-messages, CUSTOMER_MESSAGES",
        "debounced, DEBOUNCED",
        "'  Debounced ', DEBOUNCED",
        "CUSTOMER_MESSAGES, CUSTOMER_MESSAGES",
        "every_message, EVERY_MESSAGE"
    })
    void parsesTriggerNames(String name, AgentTrigger.Mode expected) {
        AgentTrigger t = AgentTrigger.parse(name, 4, GAP);

        assertThat(t.mode()).isEqualTo(expected);
        assertThat(t.everyN()).isEqualTo(4);
        assertThat(t.idleGap()).isEqualTo(GAP);
    }

    @Test
    void unknownTriggerNameIsRejectedWithTheKnownNames() {
        assertThatThrownBy(() -> AgentTrigger.parse("on-sundays", 3, GAP))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'on-sundays'")
                .hasMessageContaining("every-message")
                .hasMessageContaining("customer-messages")
                .hasMessageContaining("debounced");
    }

    @Test
    void everyNBelowOneIsRejected() {
        assertThatThrownBy(() -> AgentTrigger.parse("debounced", 0, GAP))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0");
    }

    @Test
    void everyMessageFiresForAnySender() {
        AgentTrigger t = AgentTrigger.parse("every-message", 1, GAP);

        assertThat(t.fires(message("customer", T0), 5, 4, T0)).isTrue();
        assertThat(t.fires(message("agent", T0), 6, 5, T0)).isTrue();
        assertThat(t.fires(message("system", T0), 7, 6, T0)).isTrue();
    }

    @Test
    void customerMessagesFiresOnlyForTheCustomer() {
        AgentTrigger t = AgentTrigger.parse("customer-messages", 3, GAP);

        assertThat(t.fires(message("customer", T0), 1, 0, null)).isTrue();
        assertThat(t.fires(message("agent", T0), 2, 1, T0)).isFalse();
        assertThat(t.fires(message("system", T0), 3, 1, T0)).isFalse();
        assertThat(t.fires(message("customer", T0.plusSeconds(1)), 4, 1, T0)).isTrue();
    }

    @Test
    void debouncedFiresOnTheFirstMessage() {
        AgentTrigger t = AgentTrigger.parse("debounced", 3, GAP);

        assertThat(t.fires(message("agent", T0), 1, 0, null)).isTrue();
    }

    @Test
    void debouncedFiresWhenNeverRunEvenLateInTheConversation() {
        AgentTrigger t = AgentTrigger.parse("debounced", 3, GAP);

        assertThat(t.fires(message("customer", T0.plusSeconds(10)), 7, 0, T0)).isTrue();
    }

    @Test
    void debouncedFiresAfterEveryNMessagesOnly() {
        AgentTrigger t = AgentTrigger.parse("debounced", 3, GAP);
        Instant prev = T0;

        // last ran at version 1; versions 2 and 3 are within 3 messages, 4 is the 3rd after
        assertThat(t.fires(message("customer", prev.plusSeconds(30)), 2, 1, prev)).isFalse();
        assertThat(t.fires(message("customer", prev.plusSeconds(30)), 3, 1, prev)).isFalse();
        assertThat(t.fires(message("customer", prev.plusSeconds(30)), 4, 1, prev)).isTrue();
        assertThat(t.fires(message("customer", prev.plusSeconds(30)), 9, 1, prev)).isTrue();
    }

    @Test
    void debouncedFiresAfterAnIdleGap() {
        AgentTrigger t = AgentTrigger.parse("debounced", 10, GAP);

        assertThat(t.fires(message("customer", T0.plus(GAP).minusMillis(1)), 3, 2, T0)).isFalse();
        assertThat(t.fires(message("customer", T0.plus(GAP)), 3, 2, T0)).isTrue();
        assertThat(t.fires(message("customer", T0.plus(Duration.ofHours(2))), 3, 2, T0)).isTrue();
    }

    @Test
    void debouncedDoesNotFireForAMessageOlderThanThePreviousOne() {
        AgentTrigger t = AgentTrigger.parse("debounced", 10, GAP);

        // out-of-order event time: a negative gap is no pause
        assertThat(t.fires(message("customer", T0.minus(Duration.ofHours(1))), 3, 2, T0)).isFalse();
    }

    @Test
    void everyNOfOneFiresOnEveryMessage() {
        AgentTrigger t = AgentTrigger.parse("debounced", 1, GAP);

        assertThat(t.fires(message("agent", T0.plusSeconds(1)), 2, 1, T0)).isTrue();
        assertThat(t.fires(message("agent", T0.plusSeconds(2)), 3, 2, T0.plusSeconds(1))).isTrue();
    }
}

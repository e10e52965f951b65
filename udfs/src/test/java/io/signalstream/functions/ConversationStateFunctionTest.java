package io.signalstream.functions;

import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConversationStateFunctionTest {

    private static final Duration TTL = Duration.ofHours(24);
    private static final Duration IDLE_GAP = Duration.ofMinutes(5);
    private static final Instant T0 = Instant.parse("2020-03-27T21:48:19Z");

    /** Real turns of conversation btl6ofX5a6TSNB3b3rkV (AdobeCare) in ibm-twcc-dev.jsonl. */
    private static final String[][] TURNS = {
        {"customer", "adobe crashes on import all the fucking time and im so done"},
        {
            "customer",
            "@Adobe please fix this! So many people have this awful bug and from my research"
                    + " its mainly unfixable !"
        },
        {
            "agent",
            "@OGYouTubeGod Hi Justin, sorry for the trouble. Which Adobe app is crashing on you?"
                    + " What OS are you on? We're happy to help you. Thanks! ^SJ"
        },
        {
            "customer",
            "@AdobeCare Adobe premier is the issue and any version of premierI try of it"
                    + " crashes while I try to import. I\u2019m also on windows 10 64bit"
        },
        {
            "agent",
            "@OGYouTubeGod Hi Justin, we're sorry for the experience. Ideally, it should not"
                    + " happen. Do you get any error?"
        },
        {
            "customer",
            "@AdobeCare I\u2019ve also updated my drivers to see if that was the issue."
                    + " Which didn\u2019t work"
        },
        {
            "agent",
            "@OGYouTubeGod I see! Does it happen with any specific kind of media format? Where"
                    + " have you saved the media files? ^Shivangi"
        },
    };

    private KeyedOneInputStreamOperatorTestHarness<String, ChatMessage, ConversationSnapshot>
            harness;

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    private static List<AgentSpec> agents() {
        return List.of(
                new AgentSpec(
                        "pii",
                        AgentTrigger.parse("customer-messages", 3, IDLE_GAP),
                        "local",
                        "local"),
                new AgentSpec(
                        "sentiment",
                        AgentTrigger.parse("every-message", 3, IDLE_GAP),
                        "local",
                        "local"),
                new AgentSpec(
                        "summary", AgentTrigger.parse("debounced", 3, IDLE_GAP), "local", "local"));
    }

    private static ConversationStateFunction function(int window) {
        return new ConversationStateFunction(agents(), window, TTL);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ChatMessage, ConversationSnapshot>
            open(int window) throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                function(window), ChatMessage::conversationKey, Types.STRING);
    }

    /** Turn {@code i} of the sample conversation, one minute after the previous one. */
    private static ChatMessage turn(int i) {
        return message("AdobeCare", "btl6ofX5a6TSNB3b3rkV", "msg-" + i, i, T0.plusSeconds(60L * i));
    }

    private static ChatMessage message(
            String tenant, String conversation, String id, int turn, Instant ts) {
        String[] t = TURNS[turn % TURNS.length];
        return new ChatMessage(
                id,
                tenant,
                conversation,
                t[0],
                t[1],
                "twitter",
                ts,
                Map.of(),
                new SourceRef("support.messages.raw", 1, 100L + turn));
    }

    private void send(ChatMessage m) throws Exception {
        harness.processElement(m, m.timestamp().toEpochMilli());
    }

    private List<ConversationSnapshot> output() {
        return harness.extractOutputValues();
    }

    @Test
    void versionsFollowArrivalOrder() throws Exception {
        harness = open(20);

        send(turn(0));
        send(turn(1));
        send(turn(2));

        List<ConversationSnapshot> out = output();
        assertThat(out).extracting(ConversationSnapshot::version).containsExactly(1L, 2L, 3L);
        assertThat(out).extracting(ConversationSnapshot::messageCount).containsExactly(1L, 2L, 3L);
        assertThat(out)
                .extracting(s -> s.lastMessage().messageId())
                .containsExactly("msg-0", "msg-1", "msg-2");
        ConversationSnapshot last = out.get(2);
        assertThat(last.tenantId()).isEqualTo("AdobeCare");
        assertThat(last.conversationId()).isEqualTo("btl6ofX5a6TSNB3b3rkV");
        assertThat(last.lastMessage()).isEqualTo(TranscriptEntry.of(turn(2)));
        assertThat(last.firstActivity()).isEqualTo(turn(0).timestamp());
        assertThat(last.lastActivity()).isEqualTo(turn(2).timestamp());
        assertThat(last.source()).isEqualTo(turn(2).source());
    }

    @Test
    void versionIsArrivalOrderNotTimestampOrder() throws Exception {
        harness = open(20);
        ChatMessage late = turn(0);
        ChatMessage early =
                message("AdobeCare", "btl6ofX5a6TSNB3b3rkV", "early", 1, T0.minusSeconds(600));

        send(late);
        send(early);

        List<ConversationSnapshot> out = output();
        assertThat(out)
                .extracting(s -> s.lastMessage().messageId())
                .containsExactly("msg-0", "early");
        assertThat(out.get(1).version()).isEqualTo(2);
        assertThat(out.get(1).firstActivity()).isEqualTo(early.timestamp());
        assertThat(out.get(1).lastActivity()).isEqualTo(late.timestamp());
    }

    @Test
    void transcriptWindowKeepsTheNewestMessagesOldestFirst() throws Exception {
        harness = open(3);

        for (int i = 0; i < 6; i++) {
            send(turn(i));
        }

        List<ConversationSnapshot> out = output();
        assertThat(out).hasSize(6);
        assertThat(out.get(0).recentMessages())
                .extracting(TranscriptEntry::messageId)
                .containsExactly("msg-0");
        assertThat(out.get(1).recentMessages())
                .extracting(TranscriptEntry::messageId)
                .containsExactly("msg-0", "msg-1");
        assertThat(out.get(5).recentMessages())
                .extracting(TranscriptEntry::messageId)
                .containsExactly("msg-3", "msg-4", "msg-5");
        assertThat(out.get(5).recentMessages().get(2)).isEqualTo(out.get(5).lastMessage());
        assertThat(out.get(5).recentMessages().get(0).message()).isEqualTo(TURNS[3][1]);
        assertThat(out.get(5).messageCount()).isEqualTo(6);
    }

    @Test
    void windowBelowOneIsRejected() {
        assertThatThrownBy(() -> new ConversationStateFunction(agents(), 0, TTL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void redeliveredMessageIsDroppedAndNotCounted() throws Exception {
        harness = open(20);

        send(turn(0));
        send(turn(1));
        send(turn(1)); // same message_id again
        send(turn(0));
        send(turn(2));

        List<ConversationSnapshot> out = output();
        assertThat(out).extracting(ConversationSnapshot::version).containsExactly(1L, 2L, 3L);
        assertThat(out.get(2).lastMessage().messageId()).isEqualTo("msg-2");
        assertThat(out.get(2).recentMessages())
                .extracting(TranscriptEntry::messageId)
                .containsExactly("msg-0", "msg-1", "msg-2");
    }

    @Test
    void sameConversationIdUnderTwoTenantsHasSeparateVersions() throws Exception {
        harness = open(20);

        send(message("AdobeCare", "c-1", "a1", 0, T0));
        send(message("AdobeCare", "c-1", "a2", 1, T0.plusSeconds(1)));
        send(message("SpotifyCares", "c-1", "s1", 0, T0.plusSeconds(2)));
        send(message("AdobeCare", "c-1", "a3", 3, T0.plusSeconds(3)));
        // the same message id in the other tenant is not a re-delivery
        send(message("SpotifyCares", "c-1", "a1", 1, T0.plusSeconds(4)));

        List<ConversationSnapshot> out = output();
        assertThat(out)
                .extracting(
                        s -> s.tenantId() + "/" + s.version() + "/" + s.lastMessage().messageId())
                .containsExactly(
                        "AdobeCare/1/a1",
                        "AdobeCare/2/a2",
                        "SpotifyCares/1/s1",
                        "AdobeCare/3/a3",
                        "SpotifyCares/2/a1");
        assertThat(out.get(4).recentMessages())
                .extracting(TranscriptEntry::messageId)
                .containsExactly("s1", "a1");
    }

    @Test
    void piiRunsOnCustomerMessagesOnly() throws Exception {
        harness = open(20);

        for (int i = 0; i < 4; i++) {
            send(turn(i)); // customer, customer, agent, customer
        }

        List<ConversationSnapshot> out = output();
        assertThat(out.get(0).scheduledAgents()).contains("pii", "sentiment");
        assertThat(out.get(1).scheduledAgents()).contains("pii", "sentiment");
        assertThat(out.get(2).scheduledAgents()).doesNotContain("pii").contains("sentiment");
        assertThat(out.get(3).scheduledAgents()).contains("pii", "sentiment");
    }

    @Test
    void summaryIsDebouncedEveryThreeMessages() throws Exception {
        harness = open(20);

        for (int i = 0; i < 7; i++) {
            send(turn(i)); // one minute apart: below the idle gap
        }

        List<ConversationSnapshot> out = output();
        assertThat(out)
                .extracting(s -> s.scheduledAgents().contains("summary"))
                .containsExactly(true, false, false, true, false, false, true);
        // scheduled agents are listed in configuration order
        assertThat(out.get(0).scheduledAgents()).containsExactly("pii", "sentiment", "summary");
        assertThat(out.get(2).scheduledAgents()).containsExactly("sentiment");
    }

    @Test
    void summaryRunsAgainAfterAnIdleGap() throws Exception {
        harness = open(20);

        send(message("AdobeCare", "btl6ofX5a6TSNB3b3rkV", "m1", 0, T0));
        send(message("AdobeCare", "btl6ofX5a6TSNB3b3rkV", "m2", 1, T0.plusSeconds(30)));
        // real gap in the data set: 21:51:13 -> 22:39:29
        send(
                message(
                        "AdobeCare",
                        "btl6ofX5a6TSNB3b3rkV",
                        "m3",
                        2,
                        T0.plus(Duration.ofMinutes(51))));
        send(
                message(
                        "AdobeCare",
                        "btl6ofX5a6TSNB3b3rkV",
                        "m4",
                        3,
                        T0.plus(Duration.ofMinutes(52))));

        List<ConversationSnapshot> out = output();
        assertThat(out)
                .extracting(s -> s.scheduledAgents().contains("summary"))
                .containsExactly(true, false, true, false);
    }

    @Test
    void redeliveryDoesNotAdvanceTheDebounceCount() throws Exception {
        harness = open(20);

        send(turn(0));
        send(turn(1));
        send(turn(1));
        send(turn(1));
        send(turn(2));
        send(turn(3));

        List<ConversationSnapshot> out = output();
        assertThat(out)
                .extracting(s -> s.scheduledAgents().contains("summary"))
                .containsExactly(true, false, false, true);
    }

    @Test
    void conversationStartsAgainAtVersionOneAfterTtlExpiry() throws Exception {
        harness = open(20);
        harness.setStateTtlProcessingTime(0);

        send(turn(0));
        send(turn(1));
        harness.setStateTtlProcessingTime(TTL.toMillis() - 1);
        send(turn(2)); // still alive: refreshes the TTL
        harness.setStateTtlProcessingTime(TTL.toMillis() - 1 + TTL.toMillis() + 1);
        send(turn(3));
        send(turn(1)); // its id expired as well: accepted again

        List<ConversationSnapshot> out = output();
        assertThat(out)
                .extracting(ConversationSnapshot::version)
                .containsExactly(1L, 2L, 3L, 1L, 2L);
        ConversationSnapshot restarted = out.get(3);
        assertThat(restarted.recentMessages())
                .extracting(TranscriptEntry::messageId)
                .containsExactly("msg-3");
        assertThat(restarted.firstActivity()).isEqualTo(turn(3).timestamp());
        assertThat(restarted.scheduledAgents()).contains("summary");
    }

    @Test
    void stateIsKeptUpToTheTtl() throws Exception {
        harness = open(20);
        harness.setStateTtlProcessingTime(0);

        send(turn(0));
        harness.setStateTtlProcessingTime(TTL.toMillis() - 1);
        send(turn(1));

        assertThat(output()).extracting(ConversationSnapshot::version).containsExactly(1L, 2L);
    }

    @Test
    void versionCountContinuesAfterRestoreFromSnapshot() throws Exception {
        OperatorSubtaskState state;
        try (var first = open(2)) {
            harness = first;
            send(turn(0));
            send(turn(1));
            send(turn(2));
            state = first.snapshot(1L, 1L);
        }
        harness = null;

        try (var restored =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(function(2)),
                        ChatMessage::conversationKey,
                        Types.STRING)) {
            restored.initializeState(state);
            restored.open();
            restored.processElement(turn(2), 0L); // re-delivered after recovery: still known
            restored.processElement(turn(3), 0L);

            List<ConversationSnapshot> out = restored.extractOutputValues();
            assertThat(out).hasSize(1);
            ConversationSnapshot s = out.get(0);
            assertThat(s.version()).isEqualTo(4);
            assertThat(s.recentMessages())
                    .extracting(TranscriptEntry::messageId)
                    .containsExactly("msg-2", "msg-3");
            assertThat(s.firstActivity()).isEqualTo(turn(0).timestamp());
            // summary last ran at version 1, so version 4 is the third message after it
            assertThat(s.scheduledAgents()).contains("summary");
        }
    }
}

package io.signalstream.functions;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.CallContext;
import io.signalstream.agents.Escalation;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationKeys;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent operator of a combining provider: one call per snapshot for the agents scheduled, one
 * result each; rolling-summary agents get their previous answer, which survives a snapshot and
 * restore (also to another parallelism, on the subtask that owns the key); when-uncertain agents
 * keep a confident local answer.
 */
class CombinedAgentsFunctionTest {

    /** What the recording provider was asked: agents and call context, per call. */
    record Call(List<String> agents, CallContext ctx) {}

    static final List<Call> CALLS = new CopyOnWriteArrayList<>();

    /** Answers with the local analyzers (as provider "openai") and records each call. */
    static final class RecordingFunction extends AgentAsyncFunction {
        private static final long serialVersionUID = 1L;

        RecordingFunction(List<AgentSpec> agents) {
            super(agents, conf(), 10_000, 1);
        }

        @Override
        protected AgentProvider createProvider() {
            return new AgentProvider() {
                @Override
                public String name() {
                    return "openai";
                }

                @Override
                public CompletableFuture<AgentResult> analyze(
                        String agent, ConversationSnapshot snapshot) {
                    throw new AssertionError("the operator must ask all agents at once");
                }

                @Override
                public List<CompletableFuture<AgentResult>> analyzeAll(
                        List<String> agents, ConversationSnapshot s, CallContext ctx) {
                    CALLS.add(new Call(List.copyOf(agents), ctx));
                    List<CompletableFuture<AgentResult>> out = new ArrayList<>();
                    for (String a : agents) {
                        out.add(CompletableFuture.completedFuture(LocalAgentProvider.run(a, s)));
                    }
                    return out;
                }

                @Override
                public void close() {}
            };
        }
    }

    private static Configuration conf() {
        Configuration conf = new Configuration();
        conf.set(AgentOptions.LOCAL_THREADS, 1);
        return conf;
    }

    private static AgentSpec spec(String name, Escalation escalation, double threshold) {
        return new AgentSpec(
                name,
                AgentTrigger.parse("every-message", 1, Duration.ofMinutes(5)),
                "openai",
                "none",
                AgentContext.defaultFor(name),
                3,
                escalation,
                threshold,
                null,
                null,
                null);
    }

    private static List<AgentSpec> group() {
        return List.of(
                spec("pii", Escalation.ALWAYS, 0.8),
                spec("sentiment", Escalation.ALWAYS, 0.8),
                spec("summary", Escalation.ALWAYS, 0.8));
    }

    static ConversationSnapshot snapshot(
            String conversation, long version, String text, List<String> scheduled) {
        TranscriptEntry last =
                new TranscriptEntry(
                        "m" + version, "customer", text, Instant.parse("2020-04-01T17:31:32Z"));
        return new ConversationSnapshot(
                "TeamYouTube",
                conversation,
                version,
                version,
                last,
                List.of(last),
                last.timestamp(),
                last.timestamp(),
                scheduled,
                new SourceRef("support.messages.raw", 0, version));
    }

    private static OneInputStreamOperatorTestHarness<ConversationSnapshot, AgentResult> harness(
            AgentAsyncFunction fn, int maxParallelism, int parallelism, int subtask)
            throws Exception {
        OneInputStreamOperatorTestHarness<ConversationSnapshot, AgentResult> h =
                new OneInputStreamOperatorTestHarness<>(
                        new AsyncWaitOperatorFactory<ConversationSnapshot, AgentResult>(
                                fn, 10_000, 16, AsyncDataStream.OutputMode.UNORDERED),
                        maxParallelism,
                        parallelism,
                        subtask);
        h.getStreamConfig()
                .setupNetworkInputs(
                        TypeInformation.of(ConversationSnapshot.class)
                                .createSerializer(new SerializerConfigImpl()));
        h.getStreamConfig().serializeAllConfigs();
        return h;
    }

    @Test
    void scheduledAgentsAreAskedTogetherAndEachGetsAResult() throws Exception {
        CALLS.clear();
        try (var h = harness(new RecordingFunction(group()), 128, 1, 0)) {
            h.open();
            h.processElement(
                    snapshot("c1", 1, "my mail is a@b.com", List.of("pii", "sentiment")), 1L);
            h.processElement(snapshot("c1", 2, "thanks", List.of("summary", "insights")), 2L);
            h.endInput();
            List<AgentResult> out = h.extractOutputValues();
            assertThat(out)
                    .extracting(r -> r.version() + "/" + r.agent())
                    .containsExactlyInAnyOrder("1/pii", "1/sentiment", "2/summary");
            assertThat(CALLS)
                    .extracting(Call::agents)
                    .containsExactly(List.of("pii", "sentiment"), List.of("summary"));
        }
    }

    @Test
    void rollingSummaryBuildsOnThePreviousAnswerAcrossARestore() throws Exception {
        CALLS.clear();
        OperatorSubtaskState state;
        String firstSummary;
        try (var h = harness(new RecordingFunction(group()), 128, 1, 0)) {
            h.open();
            h.processElement(snapshot("c1", 1, "My order never arrived.", List.of("summary")), 1L);
            h.endInput();
            firstSummary = (String) h.extractOutputValues().get(0).result().get("summary");
            assertThat(CALLS.get(0).ctx().prior("summary")).isNull();
            state = h.snapshot(1, 10);
        }
        assertThat(firstSummary).isNotBlank();

        try (var h = harness(new RecordingFunction(group()), 128, 1, 0)) {
            h.initializeState(state);
            h.open();
            h.processElement(
                    snapshot("c1", 4, "Still nothing, refund me.", List.of("summary")), 5L);
            h.endInput();
            CallContext.Prior prior = CALLS.get(1).ctx().prior("summary");
            assertThat(prior).isNotNull();
            assertThat(prior.version()).isEqualTo(1);
            assertThat(prior.text()).isEqualTo(firstSummary);
            assertThat(h.extractOutputValues()).hasSize(1);
        }

        // Rescaled to 2 subtasks: only the subtask owning the key keeps the entry.
        String key = ConversationKeys.of("TeamYouTube", "c1");
        int owner = KeyGroupRangeAssignment.assignKeyToParallelOperator(key, 128, 2);
        for (int subtask = 0; subtask < 2; subtask++) {
            CALLS.clear();
            OperatorSubtaskState part =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            state, 128, 1, 2, subtask);
            try (var h = harness(new RecordingFunction(group()), 128, 2, subtask)) {
                h.initializeState(part);
                h.open();
                h.processElement(snapshot("c1", 4, "Hello?", List.of("summary")), 5L);
                h.endInput();
                CallContext.Prior prior = CALLS.get(0).ctx().prior("summary");
                if (subtask == owner) {
                    assertThat(prior).isNotNull();
                    assertThat(prior.text()).isEqualTo(firstSummary);
                } else {
                    assertThat(prior).isNull();
                }
            }
        }
    }

    @Test
    void whenUncertainKeepsAConfidentLocalAnswerAndAsksTheProviderOtherwise() throws Exception {
        CALLS.clear();
        ConversationSnapshot clear =
                snapshot(
                        "c2",
                        1,
                        "This is the worst, most terrible and awful service ever!!!",
                        List.of("pii", "sentiment"));
        ConversationSnapshot vague =
                snapshot(
                        "c2",
                        2,
                        "I got a reply, not sure it is fixed but maybe it is fine",
                        List.of("pii", "sentiment"));
        double high =
                ((Number) LocalAgentProvider.run("sentiment", clear).result().get("confidence"))
                        .doubleValue();
        double low =
                ((Number) LocalAgentProvider.run("sentiment", vague).result().get("confidence"))
                        .doubleValue();
        assertThat(high).as("the local analyzer is surer of the clear message").isGreaterThan(low);
        List<AgentSpec> agents =
                List.of(
                        spec("pii", Escalation.ALWAYS, 0.8),
                        spec("sentiment", Escalation.WHEN_UNCERTAIN, (high + low) / 2));
        assertThat(
                        AgentAsyncFunction.confident(
                                LocalAgentProvider.run("sentiment", clear), agents.get(1)))
                .isTrue();
        assertThat(
                        AgentAsyncFunction.confident(
                                LocalAgentProvider.run("sentiment", vague), agents.get(1)))
                .isFalse();
        try (var h = harness(new RecordingFunction(agents), 128, 1, 0)) {
            h.open();
            h.processElement(clear, 1L);
            h.processElement(vague, 2L);
            h.endInput();
            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(4).allMatch(r -> AgentStatus.OK.equals(r.status()));
        }
        assertThat(CALLS)
                .extracting(Call::agents)
                .containsExactlyInAnyOrder(List.of("pii"), List.of("pii", "sentiment"));
    }
}

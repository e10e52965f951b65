package io.signalstream.functions;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.JitteredBackoffRetryStrategy;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class AgentAsyncFunctionTest {

    private static final long TIMEOUT_MS = 5_000;
    private static final int CAPACITY = 10;

    /** Line 1 of ibm-twcc-dev.jsonl: a customer message holding a real e-mail address. */
    private static final String EMAIL_TEXT =
            "@TeamYouTube Hello dear youtube officers, my channel has been suspended 1 year, I sent"
                    + " an e-mail, no answer, please open my channel back :( channel link: https:"
                    + " //www.youtube.com/channel/UCW97Zu1780HRMZoMMhlW06g\n\nmy e-mail address:"
                    + " zekidemir089@gmail.com";

    private static final String EMAIL = "zekidemir089@gmail.com";

    private static ConversationSnapshot snapshot(long version, String text) {
        TranscriptEntry last =
                new TranscriptEntry(
                        "1245403438755852288",
                        "customer",
                        text,
                        Instant.parse("2020-04-01T17:31:32Z"));
        return new ConversationSnapshot(
                "TeamYouTube",
                "LgwAXtbbEm0mBvDrGmjk",
                version,
                version,
                last,
                List.of(last),
                last.timestamp(),
                last.timestamp(),
                List.of("pii", "sentiment"),
                new SourceRef("support.messages.raw", 0, 7L));
    }

    private static AgentSpec spec(String agent) {
        return new AgentSpec(
                agent,
                AgentTrigger.parse("customer-messages", 3, Duration.ofMinutes(5)),
                "local",
                "local");
    }

    private static Configuration conf() {
        Configuration conf = new Configuration();
        conf.set(AgentOptions.LOCAL_THREADS, 1);
        return conf;
    }

    private static OneInputStreamOperatorTestHarness<ConversationSnapshot, AgentResult> harness(
            AgentAsyncFunction fn, AsyncRetryStrategy<AgentResult> retry) throws Exception {
        AsyncWaitOperatorFactory<ConversationSnapshot, AgentResult> factory =
                retry == null
                        ? new AsyncWaitOperatorFactory<>(
                                fn, TIMEOUT_MS, CAPACITY, AsyncDataStream.OutputMode.UNORDERED)
                        : new AsyncWaitOperatorFactory<>(
                                fn,
                                TIMEOUT_MS,
                                CAPACITY,
                                AsyncDataStream.OutputMode.UNORDERED,
                                retry);
        return new OneInputStreamOperatorTestHarness<>(
                factory,
                TypeInformation.of(ConversationSnapshot.class)
                        .createSerializer(new SerializerConfigImpl()));
    }

    /** A function whose provider never answers: the operator's timer must call timeout(). */
    private static final class UnresponsiveAgentFunction extends AgentAsyncFunction {
        private static final long serialVersionUID = 1L;

        UnresponsiveAgentFunction(AgentSpec spec, Configuration conf, long timeoutMs) {
            super(spec, conf, timeoutMs, 3);
        }

        @Override
        protected AgentProvider createProvider() {
            return new AgentProvider() {
                @Override
                public String name() {
                    return "silent";
                }

                @Override
                public java.util.concurrent.CompletableFuture<AgentResult> analyze(
                        String agent, ConversationSnapshot snapshot) {
                    return new java.util.concurrent.CompletableFuture<>(); // no answer, ever
                }

                @Override
                public void close() {}
            };
        }
    }

    /** Counts the calls the operator makes, retries included. */
    private static class CountingAgentFunction extends AgentAsyncFunction {
        private static final long serialVersionUID = 1L;
        static final AtomicInteger CALLS = new AtomicInteger();

        CountingAgentFunction(AgentSpec spec, Configuration conf, long timeoutMs) {
            super(spec, conf, timeoutMs, 3);
        }

        @Override
        protected AgentProvider createProvider() {
            // "translation" stands for an agent the provider does not know
            return "translation".equals(spec().name())
                    ? RefusingAgentFunction.refusing()
                    : super.createProvider();
        }

        @Override
        public void asyncInvoke(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
            CALLS.incrementAndGet();
            super.asyncInvoke(snapshot, out);
        }
    }

    /**
     * A function whose provider refuses every agent, as a provider does for an agent it does not
     * know: the future completes exceptionally.
     */
    private static class RefusingAgentFunction extends AgentAsyncFunction {
        private static final long serialVersionUID = 1L;

        RefusingAgentFunction(AgentSpec spec, Configuration conf, long timeoutMs, int attempts) {
            super(spec, conf, timeoutMs, attempts);
        }

        @Override
        protected AgentProvider createProvider() {
            return refusing();
        }

        static AgentProvider refusing() {
            return new AgentProvider() {
                @Override
                public String name() {
                    return "local";
                }

                @Override
                public CompletableFuture<AgentResult> analyze(
                        String agent, ConversationSnapshot snapshot) {
                    return CompletableFuture.failedFuture(
                            new IllegalArgumentException("unknown agent " + agent));
                }

                @Override
                public void close() {}
            };
        }
    }

    /** Collects what a function completes a ResultFuture with. */
    private static final class CollectingResultFuture implements ResultFuture<AgentResult> {
        final CompletableFuture<Collection<AgentResult>> done = new CompletableFuture<>();

        @Override
        public void complete(Collection<AgentResult> result) {
            done.complete(new ArrayList<>(result));
        }

        @Override
        public void completeExceptionally(Throwable error) {
            done.completeExceptionally(error);
        }

        @Override
        public void complete(CollectionSupplier<AgentResult> supplier) {
            try {
                complete(supplier.get());
            } catch (Exception e) {
                completeExceptionally(e);
            }
        }
    }

    @Test
    void localProviderAnswersThePiiAgent() throws Exception {
        try (var h = harness(new AgentAsyncFunction(spec("pii"), conf(), TIMEOUT_MS, 3), null)) {
            h.open();
            h.processElement(snapshot(1, EMAIL_TEXT), 10L);
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            AgentResult r = out.get(0);
            assertThat(r.status()).isEqualTo(AgentStatus.OK);
            assertThat(r.hasAnswer()).isTrue();
            assertThat(r.error()).isNull();
            assertThat(r.agent()).isEqualTo("pii");
            assertThat(r.provider()).isEqualTo("local");
            assertThat(r.model()).isEqualTo("local-pii");
            assertThat(r.promptVersion()).isEqualTo(LocalAgentProvider.VERSION);
            assertThat(r.promptHash()).isEqualTo(AgentResults.hash("pii\n" + EMAIL_TEXT));
            assertThat(r.tenantId()).isEqualTo("TeamYouTube");
            assertThat(r.conversationId()).isEqualTo("LgwAXtbbEm0mBvDrGmjk");
            assertThat(r.version()).isEqualTo(1);
            assertThat(r.messageId()).isEqualTo("1245403438755852288");
            assertThat(r.attempts()).isEqualTo(1);

            assertThat(r.result()).containsEntry("has_pii", true);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> entities =
                    (List<Map<String, Object>>) r.result().get("entities");
            int start = EMAIL_TEXT.indexOf(EMAIL);
            assertThat(entities)
                    .anySatisfy(
                            e -> {
                                assertThat(e).containsEntry("type", "EMAIL_ADDRESS");
                                assertThat(e).containsEntry("start", start);
                                assertThat(e).containsEntry("end", start + EMAIL.length());
                            });
            String redacted = (String) r.result().get("redacted_text");
            assertThat(redacted).doesNotContain(EMAIL).contains("<EMAIL_ADDRESS_1>");
            assertThat(redacted).startsWith("@TeamYouTube Hello dear youtube officers");
        }
    }

    @Test
    void localProviderAnswersTheSentimentAgent() throws Exception {
        // a real, clearly negative message from the data set
        String text =
                "I'm going to fucking puke\nMy \"It\" review has been banned world wide because of"
                        + " copyright...";
        try (var h =
                harness(new AgentAsyncFunction(spec("sentiment"), conf(), TIMEOUT_MS, 3), null)) {
            h.open();
            h.processElement(snapshot(2, text), 10L);
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            AgentResult r = out.get(0);
            assertThat(r.status()).isEqualTo(AgentStatus.OK);
            assertThat(r.version()).isEqualTo(2);
            assertThat(r.result())
                    .containsKeys("label", "score", "confidence", "emotion", "reasoning");
            assertThat(r.result().get("label")).isEqualTo("negative");
            assertThat((Double) r.result().get("score")).isBetween(-1.0, 0.0);
        }
    }

    @Test
    void manySnapshotsAllGetAnAnswer() throws Exception {
        try (var h = harness(new AgentAsyncFunction(spec("pii"), conf(), TIMEOUT_MS, 3), null)) {
            h.open();
            for (int v = 1; v <= 25; v++) {
                h.processElement(snapshot(v, EMAIL_TEXT), v);
            }
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(25);
            assertThat(out)
                    .extracting(AgentResult::version)
                    .containsExactlyInAnyOrder(
                            1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L, 16L,
                            17L, 18L, 19L, 20L, 21L, 22L, 23L, 24L, 25L);
            assertThat(out).allMatch(r -> AgentStatus.OK.equals(r.status()));
        }
    }

    @Test
    void callThatOutlivesTheTimeoutBecomesATimeoutResult() throws Exception {
        try (var h =
                harness(new UnresponsiveAgentFunction(spec("summary"), conf(), TIMEOUT_MS), null)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(snapshot(3, EMAIL_TEXT), 10L);

            h.setProcessingTime(TIMEOUT_MS - 1);
            assertThat(h.extractOutputValues()).isEmpty();

            h.setProcessingTime(TIMEOUT_MS);
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            AgentResult r = out.get(0);
            assertThat(r.status()).isEqualTo(AgentStatus.TIMEOUT);
            assertThat(r.hasAnswer()).isFalse();
            assertThat(r.agent()).isEqualTo("summary");
            assertThat(r.provider()).isEqualTo("local");
            assertThat(r.version()).isEqualTo(3);
            assertThat(r.messageId()).isEqualTo("1245403438755852288");
            assertThat(r.latencyMs()).isEqualTo(TIMEOUT_MS);
            assertThat(r.error()).contains(String.valueOf(TIMEOUT_MS));
            assertThat(r.result()).isEmpty();
        }
    }

    @Test
    void timeoutCallbackCompletesWithATimeoutResult() throws Exception {
        AgentAsyncFunction fn = new AgentAsyncFunction(spec("insights"), conf(), 1234, 3);
        try (var h = harness(fn, null)) {
            h.open(); // creates the provider and the metrics of fn
            CollectingResultFuture rf = new CollectingResultFuture();

            fn.timeout(snapshot(4, EMAIL_TEXT), rf);

            Collection<AgentResult> out = rf.done.getNow(null);
            assertThat(out).hasSize(1);
            AgentResult r = out.iterator().next();
            assertThat(r.status()).isEqualTo(AgentStatus.TIMEOUT);
            assertThat(r.agent()).isEqualTo("insights");
            assertThat(r.version()).isEqualTo(4);
            assertThat(r.latencyMs()).isEqualTo(1234);
            assertThat(r.error()).isEqualTo("no answer within 1234 ms");
        }
    }

    @Test
    void providerFailureBecomesAFailedResult() throws Exception {
        // a provider completes the future exceptionally for an agent it does not know
        try (var h =
                harness(
                        new RefusingAgentFunction(spec("translation"), conf(), TIMEOUT_MS, 3),
                        null)) {
            h.open();
            h.processElement(snapshot(5, EMAIL_TEXT), 10L);
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            AgentResult r = out.get(0);
            assertThat(r.status()).isEqualTo(AgentStatus.FAILED);
            assertThat(r.hasAnswer()).isFalse();
            assertThat(r.agent()).isEqualTo("translation");
            assertThat(r.version()).isEqualTo(5);
            assertThat(r.result()).isEmpty();
            assertThat(r.error()).startsWith("IllegalArgumentException:").contains("translation");
        }
    }

    @Test
    void failedCallIsRetriedAndEndsAsAFailedResult() throws Exception {
        JitteredBackoffRetryStrategy retry = new JitteredBackoffRetryStrategy(3, 10, 20);
        CountingAgentFunction.CALLS.set(0);
        try (var h =
                harness(
                        new CountingAgentFunction(spec("translation"), conf(), TIMEOUT_MS),
                        retry)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(snapshot(6, EMAIL_TEXT), 10L);

            runRetriesUntilOutput(h);
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).status()).isEqualTo(AgentStatus.FAILED);
            assertThat(out.get(0).version()).isEqualTo(6);
            assertThat(CountingAgentFunction.CALLS.get())
                    .as("first call and two retries")
                    .isEqualTo(3);
        }
    }

    @Test
    void okResultIsNotRetried() throws Exception {
        JitteredBackoffRetryStrategy retry = new JitteredBackoffRetryStrategy(3, 10, 20);
        CountingAgentFunction.CALLS.set(0);
        try (var h = harness(new CountingAgentFunction(spec("pii"), conf(), TIMEOUT_MS), retry)) {
            h.open();
            h.processElement(snapshot(7, EMAIL_TEXT), 10L);
            h.endInput();

            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).status()).isEqualTo(AgentStatus.OK);
            assertThat(CountingAgentFunction.CALLS.get()).isEqualTo(1);
        }
    }

    /**
     * Advances processing time in 5 ms steps and runs the retry mails the timers enqueue until the
     * harness has output. Simulated time stops at 1 s (all retries are due by then, the async
     * timeout is not); the loop runs on in real time, up to 30 s, while the attempts complete on
     * the provider's executor, so a slow machine only makes it take longer.
     */
    private static void runRetriesUntilOutput(OneInputStreamOperatorTestHarness<?, ?> h)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (long t = 0;
                System.nanoTime() < deadline && h.extractOutputValues().isEmpty();
                t += 5) {
            h.setProcessingTime(Math.min(t, 1000));
            drainMailbox(h);
            Thread.sleep(2);
            drainMailbox(h);
        }
    }

    private static void drainMailbox(OneInputStreamOperatorTestHarness<?, ?> h) throws Exception {
        while (true) {
            var mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isEmpty()) {
                return;
            }
            Mail m = mail.get();
            m.run();
        }
    }

    @Test
    void failedResultAfterRetriesReportsEveryAttempt() throws Exception {
        // "translation" is unknown to the provider: every attempt fails.
        AgentAsyncFunction fn = new RefusingAgentFunction(spec("translation"), conf(), 5000, 3);
        try (var h =
                new OneInputStreamOperatorTestHarness<>(
                        new AsyncWaitOperatorFactory<>(
                                fn,
                                5000,
                                10,
                                AsyncDataStream.OutputMode.UNORDERED,
                                new JitteredBackoffRetryStrategy(3, 10, 20)),
                        TypeInformation.of(ConversationSnapshot.class)
                                .createSerializer(new SerializerConfigImpl()))) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(snapshot(1, EMAIL_TEXT), 0L);
            runRetriesUntilOutput(h);
            h.endInput();
            List<AgentResult> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).status()).isEqualTo(AgentStatus.FAILED);
            assertThat(out.get(0).attempts()).isEqualTo(3);
        }
    }
}

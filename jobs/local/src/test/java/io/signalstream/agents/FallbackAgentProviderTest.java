package io.signalstream.agents;

import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.events.Usage;
import io.signalstream.llm.OpenAiProvider;
import io.signalstream.llm.ProviderSettings;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.local.llm.LoopbackLlmServer.Reply;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of {@link FallbackAgentProvider} with an {@link OpenAiProvider} primary against a real HTTP
 * server on 127.0.0.1 and the {@link LocalAgentProvider} as fallback.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FallbackAgentProviderTest {

    private static final AtomicInteger IDS = new AtomicInteger();
    private static final String TEXT =
            "My package never arrived and support is useless, I want a refund now!";

    private final List<AgentProvider> providers = new ArrayList<>();
    private LoopbackLlmServer server;

    @BeforeEach
    void startServer() {
        server = LoopbackLlmServer.start();
    }

    @AfterEach
    void stop() {
        for (AgentProvider p : providers) {
            p.close();
        }
        providers.clear();
        server.close();
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.SECONDS)
    void primaryFailingWithServerErrorsIsAnsweredByTheLocalProvider() throws Exception {
        server.setResponder(req -> Reply.error(500, "upstream exploded", "server_error", null));
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryMaxAttempts(name), 2);
        FallbackAgentProvider provider =
                track(new FallbackAgentProvider(openAi(name, c), new LocalAgentProvider(1)));
        ConversationSnapshot s = snapshot("c-500");

        AgentResult r = provider.analyze("sentiment", s).get(12, TimeUnit.SECONDS);

        AgentResult local = LocalAgentProvider.run("sentiment", s);
        assertThat(server.requestCount()).isEqualTo(2);
        assertThat(provider.name()).isEqualTo(name);
        assertThat(r.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(r.provider()).isEqualTo(LocalAgentProvider.NAME);
        assertThat(r.model()).isEqualTo(local.model());
        assertThat(r.promptVersion()).isEqualTo(LocalAgentProvider.VERSION);
        assertThat(r.error()).startsWith(name + " failed:").contains("HTTP 500");
        assertThat(r.attempts()).isEqualTo(2 + local.attempts());
        assertThat(r.result()).isEqualTo(local.result());
        assertThat(r.usage()).isEqualTo(Usage.NONE);
        assertThat(r.tenantId()).isEqualTo(s.tenantId());
        assertThat(r.conversationId()).isEqualTo(s.conversationId());
        assertThat(r.version()).isEqualTo(s.version());
        assertThat(r.messageId()).isEqualTo(s.lastMessage().messageId());
        assertThat(r.hasAnswer()).isTrue();
        assertThat(ProviderStats.of(name).fallbacks.get()).isEqualTo(1);
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.SECONDS)
    void primaryThatCannotConnectIsAnsweredByTheLocalProvider() throws Exception {
        String name = newName();
        Configuration c = conf(name, "http://127.0.0.1:" + closedPort() + "/v1");
        c.set(ProviderOptions.retryMaxAttempts(name), 3);
        FallbackAgentProvider provider =
                track(new FallbackAgentProvider(openAi(name, c), new LocalAgentProvider(1)));
        ConversationSnapshot s = snapshot("c-refused");

        AgentResult r = provider.analyze("pii", s).get(12, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(r.provider()).isEqualTo(LocalAgentProvider.NAME);
        assertThat(r.error()).startsWith(name + " failed:").contains("connection error");
        assertThat(r.attempts()).isEqualTo(3 + 1);
        assertThat(r.result()).isEqualTo(LocalAgentProvider.run("pii", s).result());
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.SECONDS)
    void primaryAnswerPassesThroughUnchanged() throws Exception {
        String name = newName();
        AtomicReference<AgentResult> fromPrimary = new AtomicReference<>();
        OpenAiProvider openAi = openAi(name, conf(name, server.baseUrl()));
        AgentProvider recording =
                new AgentProvider() {
                    @Override
                    public String name() {
                        return openAi.name();
                    }

                    @Override
                    public CompletableFuture<AgentResult> analyze(
                            String agent, ConversationSnapshot s) {
                        return openAi.analyze(agent, s)
                                .thenApply(
                                        r -> {
                                            fromPrimary.set(r);
                                            return r;
                                        });
                    }

                    @Override
                    public void close() {
                        openAi.close();
                    }
                };
        CountingProvider fallback = new CountingProvider(new LocalAgentProvider(1));
        FallbackAgentProvider provider = track(new FallbackAgentProvider(recording, fallback));

        AgentResult r = provider.analyze("summary", snapshot("c-ok")).get(12, TimeUnit.SECONDS);

        assertThat(r).isSameAs(fromPrimary.get());
        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(r.provider()).isEqualTo(name);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.error()).isNull();
        assertThat(fallback.calls.get()).isZero();
        assertThat(server.requestCount()).isEqualTo(1);
        assertThat(ProviderStats.of(name).fallbacks.get()).isZero();
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.SECONDS)
    void primaryCompletingWithAFailedResultIsAnsweredByTheFallback() throws Exception {
        AgentProvider failing =
                new AgentProvider() {
                    @Override
                    public String name() {
                        return "stub-failing";
                    }

                    @Override
                    public CompletableFuture<AgentResult> analyze(
                            String agent, ConversationSnapshot s) {
                        return CompletableFuture.completedFuture(
                                AgentResults.failed(
                                        s,
                                        agent,
                                        name(),
                                        new IllegalStateException("model unavailable")));
                    }

                    @Override
                    public void close() {}
                };
        ProviderStats.of("stub-failing").reset();
        FallbackAgentProvider provider =
                track(new FallbackAgentProvider(failing, new LocalAgentProvider(1)));
        ConversationSnapshot s = snapshot("c-failed");

        AgentResult r = provider.analyze("insights", s).get(12, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(r.provider()).isEqualTo(LocalAgentProvider.NAME);
        assertThat(r.error())
                .startsWith("stub-failing failed:")
                .contains(AgentStatus.FAILED)
                .contains("model unavailable");
        assertThat(r.attempts()).isEqualTo(1 + 1);
        assertThat(r.result()).isEqualTo(LocalAgentProvider.run("insights", s).result());
        assertThat(ProviderStats.of("stub-failing").fallbacks.get()).isEqualTo(1);
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.SECONDS)
    void primaryThrowingIsAnsweredByTheFallback() throws Exception {
        AgentProvider throwing =
                new AgentProvider() {
                    @Override
                    public String name() {
                        return "stub-throwing";
                    }

                    @Override
                    public CompletableFuture<AgentResult> analyze(
                            String agent, ConversationSnapshot s) {
                        throw new IllegalStateException("bug in the primary");
                    }

                    @Override
                    public void close() {}
                };
        FallbackAgentProvider provider =
                track(new FallbackAgentProvider(throwing, new LocalAgentProvider(1)));

        AgentResult r =
                provider.analyze("sentiment", snapshot("c-throw")).get(12, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(r.error()).startsWith("stub-throwing failed:").contains("bug in the primary");
        assertThat(r.attempts()).isEqualTo(1);
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.SECONDS)
    void openCircuitIsAnsweredByTheFallbackWithoutARequest() throws Exception {
        server.setResponder(req -> Reply.error(503, "overloaded", "server_error", null));
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryMaxAttempts(name), 1);
        c.set(ProviderOptions.circuitFailureThreshold(name), 1);
        c.set(ProviderOptions.circuitCoolDown(name), Duration.ofSeconds(30));
        FallbackAgentProvider provider =
                track(new FallbackAgentProvider(openAi(name, c), new LocalAgentProvider(1)));

        AgentResult first =
                provider.analyze("sentiment", snapshot("c-cb1")).get(12, TimeUnit.SECONDS);
        AgentResult second =
                provider.analyze("sentiment", snapshot("c-cb2")).get(12, TimeUnit.SECONDS);

        assertThat(first.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(first.error()).contains("HTTP 503");
        assertThat(second.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(second.error()).startsWith(name + " failed:").contains("circuit open");
        assertThat(second.attempts()).isEqualTo(0 + 1);
        assertThat(server.requestCount()).isEqualTo(1);
        assertThat(ProviderStats.of(name).fallbacks.get()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ helpers

    /** Counts the calls of a provider. */
    private static final class CountingProvider implements AgentProvider {
        final AgentProvider delegate;
        final AtomicInteger calls = new AtomicInteger();

        CountingProvider(AgentProvider delegate) {
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot s) {
            calls.incrementAndGet();
            return delegate.analyze(agent, s);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    private static String newName() {
        return "openai-fb" + IDS.incrementAndGet();
    }

    private static Configuration conf(String name, String baseUrl) {
        Configuration c = new Configuration();
        c.set(ProviderOptions.baseUrl(name), baseUrl);
        c.set(ProviderOptions.model(name), "gpt-test-mini");
        c.set(ProviderOptions.apiKeyEnv(name), "SIGNALSTREAM_TEST_UNSET_API_KEY_VARIABLE");
        c.set(ProviderOptions.requestTimeout(name), Duration.ofSeconds(5));
        c.set(ProviderOptions.retryInitialBackoff(name), Duration.ofMillis(50));
        c.set(ProviderOptions.retryMaxBackoff(name), Duration.ofMillis(200));
        c.set(AgentOptions.TIMEOUT, Duration.ofSeconds(10));
        return c;
    }

    private static OpenAiProvider openAi(String name, Configuration c) {
        ProviderStats.of(name).reset();
        return new OpenAiProvider(ProviderSettings.from(c, name));
    }

    private <P extends AgentProvider> P track(P p) {
        providers.add(p);
        return p;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket =
                new ServerSocket(0, 1, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}))) {
            return socket.getLocalPort();
        }
    }

    private static ConversationSnapshot snapshot(String conversation) {
        TranscriptEntry greeting =
                new TranscriptEntry(
                        conversation + "-m1",
                        "agent",
                        "Hi, how can I help you today?",
                        Instant.parse("2024-05-01T10:00:00Z"));
        TranscriptEntry last =
                new TranscriptEntry(
                        conversation + "-m2",
                        "customer",
                        TEXT,
                        Instant.parse("2024-05-01T10:01:00Z"));
        return new ConversationSnapshot(
                "acme",
                conversation,
                2,
                2,
                last,
                List.of(greeting, last),
                greeting.timestamp(),
                last.timestamp(),
                List.of("pii", "sentiment", "insights", "summary"),
                new SourceRef("support.chat.messages", 0, 2));
    }
}

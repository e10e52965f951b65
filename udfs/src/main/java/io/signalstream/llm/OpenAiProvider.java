package io.signalstream.llm;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.ProviderException;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.Usage;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An agent provider that calls an OpenAI-compatible {@code /v1/chat/completions} server over
 * async-http-client, never blocking the caller.
 *
 * <p>One call: render the agent's prompt (PII redacted by default) → answer from the response cache
 * if the same (provider, model, prompt) was answered before → refuse if the circuit is open → wait
 * (without a thread) for the request and token budget and an in-flight slot → POST with {@code
 * response_format} {@code json_schema} (or {@code json_object} for servers without it) → validate
 * the answer against the agent's schema, with one repair request if it breaks it. 429, 5xx,
 * timeouts, connection errors and malformed bodies are retried with jittered exponential backoff
 * computed from the attempt number, honouring {@code Retry-After}, as long as the call's deadline
 * allows; 400, 401, 403 and 404 are not retried and are logged once. A call without a valid answer
 * completes exceptionally with a {@link ProviderException}, which {@link
 * io.signalstream.agents.FallbackAgentProvider} turns into the fallback provider's answer.
 *
 * <p>This class orchestrates (cache, circuit breaker, budget and in-flight bound as each attempt's
 * {@link ChatCall.Admission}, counters, the result); the HTTP exchange and its retries are {@link
 * ChatCompletionsClient}'s, the schema check and repair {@link StructuredAnswer}'s and the PII
 * merge {@link PiiAnswerMerge}'s.
 */
public final class OpenAiProvider implements AgentProvider {

    /** Prompt template version of every agent. */
    public static final String PROMPT_VERSION = "v1";

    private final ProviderSettings settings;
    private final ProviderRuntime rt;
    private final StructuredAnswer structured;

    /**
     * Creates the provider.
     *
     * @param settings the provider; its shared runtime is acquired here and released on close
     */
    public OpenAiProvider(ProviderSettings settings) {
        this.settings = settings;
        this.rt = ProviderRuntime.acquire(settings);
        this.structured = new StructuredAnswer(new ChatCompletionsClient(settings, rt), rt.stats);
    }

    @Override
    public String name() {
        return settings.name();
    }

    @Override
    public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot) {
        long start = System.nanoTime();
        AgentPrompt prompt = AgentPrompt.of(agent, PROMPT_VERSION);
        AgentPrompt.Rendered rendered = prompt.render(snapshot, settings.redactPii());
        String cacheKey =
                AgentResults.hash(
                        settings.name()
                                + "\n"
                                + settings.model()
                                + "\n"
                                + prompt.promptVersion()
                                + "\n"
                                + rendered.system()
                                + "\n"
                                + rendered.user());
        if (rt.cache != null) {
            JsonNode cached = rt.cache.getIfPresent(cacheKey);
            if (cached != null) {
                rt.stats.cacheHits.incrementAndGet();
                return CompletableFuture.completedFuture(
                        result(snapshot, agent, prompt, cacheKey, cached, Usage.NONE, 0, start));
            }
            rt.stats.cacheMisses.incrementAndGet();
        }
        if (!rt.breaker.allowRequest()) {
            rt.stats.circuitRejections.incrementAndGet();
            return CompletableFuture.failedFuture(
                    new ProviderException("circuit open for provider " + settings.name(), 0));
        }
        long estimatedTokens = rendered.estimatedTokens() + settings.maxTokens();
        ChatCall call =
                new ChatCall(
                        prompt,
                        rendered,
                        start + settings.callDeadline().toNanos(),
                        admission(snapshot.tenantId(), estimatedTokens));
        CompletableFuture<JsonNode> outcome = new CompletableFuture<>();
        structured
                .ask(call)
                .whenComplete(
                        (answer, error) -> {
                            if (error == null) {
                                rt.breaker.onSuccess();
                                outcome.complete(answer);
                                return;
                            }
                            ChatCall.Failure failure =
                                    error instanceof ChatCall.Failure f
                                            ? f
                                            : new ChatCall.Failure(
                                                    "unexpected error: " + error, false);
                            if (failure.providerFault) {
                                rt.breaker.onFailure();
                            }
                            rt.stats.failures.incrementAndGet();
                            outcome.completeExceptionally(
                                    new ProviderException(
                                            failure.getMessage()
                                                    + " ("
                                                    + call.attempts
                                                    + " attempts)",
                                            call.attempts));
                        });
        return outcome.thenApply(
                answer -> {
                    if (rt.cache != null) {
                        rt.cache.put(cacheKey, answer);
                    }
                    return result(
                            snapshot,
                            agent,
                            prompt,
                            cacheKey,
                            answer,
                            new Usage(call.promptTokens, call.completionTokens),
                            call.attempts,
                            start);
                });
    }

    /**
     * Each attempt waits (without a thread) for the tenant's request and token budget, then an
     * in-flight slot; a 200 answer's usage corrects the budget's token estimate.
     */
    private ChatCall.Admission admission(String tenant, long estimatedTokens) {
        return new ChatCall.Admission() {
            @Override
            public CompletableFuture<Void> admit() {
                return rt.budget
                        .acquire(tenant, estimatedTokens)
                        .thenCompose(v -> rt.inFlight.acquire());
            }

            @Override
            public void release() {
                rt.inFlight.release();
            }

            @Override
            public void used(long promptTokens, long completionTokens) {
                rt.budget.reconcile(tenant, estimatedTokens, promptTokens + completionTokens);
            }
        };
    }

    private AgentResult result(
            ConversationSnapshot s,
            String agent,
            AgentPrompt prompt,
            String promptHash,
            JsonNode answer,
            Usage usage,
            int attempts,
            long startNanos) {
        Map<String, Object> result =
                "pii".equals(agent)
                        ? PiiAnswerMerge.merge(s.lastMessage().message(), answer)
                        : toMap(answer);
        return new AgentResult(
                s.tenantId(),
                s.conversationId(),
                s.version(),
                s.lastMessage().messageId(),
                agent,
                AgentStatus.OK,
                settings.name(),
                settings.model(),
                prompt.promptVersion(),
                promptHash,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
                attempts,
                usage,
                result,
                null);
    }

    /**
     * The answer as plain Java values, the same as {@code Json.MAPPER.convertValue(answer,
     * LinkedHashMap.class)} gives (objects as {@link LinkedHashMap}, arrays as {@link
     * java.util.ArrayList}, numbers as their node's {@link JsonNode#numberValue()}), but walked
     * directly instead of through a token buffer.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> toMap(JsonNode answer) {
        return (Map<String, Object>) plain(answer);
    }

    private static Object plain(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> m.put(e.getKey(), plain(e.getValue())));
            return m;
        }
        if (n.isArray()) {
            java.util.List<Object> l = new java.util.ArrayList<>(n.size());
            n.forEach(e -> l.add(plain(e)));
            return l;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isNumber()) {
            return n.numberValue();
        }
        return Json.MAPPER.convertValue(n, Object.class); // binary or POJO nodes: not in answers
    }

    @Override
    public void close() {
        rt.release();
    }
}

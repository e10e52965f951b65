package io.signalstream.llm;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.CallContext;
import io.signalstream.agents.Futures;
import io.signalstream.agents.ProviderException;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.Usage;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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

    private final ProviderSettings settings;
    private final ProviderRuntime rt;
    private final StructuredAnswer structured;
    private final Map<String, AgentPrompt> prompts = new ConcurrentHashMap<>();
    private final Map<String, AgentPrompt> combinedPrompts = new ConcurrentHashMap<>();

    /**
     * Creates the provider for the built-in agents with their bundled prompts.
     *
     * @param settings the provider; its shared runtime is acquired here and released on close
     */
    public OpenAiProvider(ProviderSettings settings) {
        this(settings, List.of());
    }

    /**
     * Creates the provider.
     *
     * @param settings the provider; its shared runtime is acquired here and released on close
     * @param agents the agents it answers (their prompts, schemas and contexts); a built-in agent
     *     not among them is answered with its bundled prompt
     */
    public OpenAiProvider(ProviderSettings settings, Collection<AgentSpec> agents) {
        this.settings = settings;
        for (AgentSpec a : agents) {
            prompts.put(a.name(), AgentPrompt.of(a));
        }
        this.rt = ProviderRuntime.acquire(settings);
        this.structured = new StructuredAnswer(new ChatCompletionsClient(settings, rt), rt.stats);
    }

    @Override
    public String name() {
        return settings.name();
    }

    private AgentPrompt prompt(String agent) {
        return prompts.computeIfAbsent(agent, AgentPrompt::of);
    }

    @Override
    public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot) {
        return analyze(agent, snapshot, CallContext.NONE);
    }

    @Override
    public CompletableFuture<AgentResult> analyze(
            String agent, ConversationSnapshot snapshot, CallContext ctx) {
        long start = System.nanoTime();
        AgentPrompt prompt = prompt(agent);
        String key = cacheKey(prompt, snapshot, ctx);
        AgentResult cached = cached(snapshot, prompt, key, start);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        return single(snapshot, ctx, prompt, key, start);
    }

    /**
     * Answers several agents with one request whose schema combines theirs (agents already in the
     * response cache are left out; a single remaining agent gets its own request). Each agent's
     * part is checked against its own schema: a part that breaks it gets its own repair request
     * (the agent alone, counted in {@code repairs}); if the combined request fails, every part
     * fails with its reason and may fall back on its own. Usage is split between the agents in
     * proportion to their instructions and schema (prompt tokens) and their part of the answer
     * (completion tokens).
     */
    @Override
    public List<CompletableFuture<AgentResult>> analyzeAll(
            List<String> agents, ConversationSnapshot snapshot, CallContext ctx) {
        long start = System.nanoTime();
        List<CompletableFuture<AgentResult>> out = new ArrayList<>(agents.size());
        List<AgentPrompt> missing = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<CompletableFuture<AgentResult>> missingOut = new ArrayList<>();
        for (String agent : agents) {
            AgentPrompt prompt = prompt(agent);
            String key = cacheKey(prompt, snapshot, ctx);
            AgentResult cached = cached(snapshot, prompt, key, start);
            if (cached != null) {
                out.add(CompletableFuture.completedFuture(cached));
            } else {
                CompletableFuture<AgentResult> f = new CompletableFuture<>();
                out.add(f);
                missing.add(prompt);
                keys.add(key);
                missingOut.add(f);
            }
        }
        if (missing.size() == 1) {
            Futures.forward(
                    single(snapshot, ctx, missing.get(0), keys.get(0), start), missingOut.get(0));
        } else if (missing.size() > 1) {
            combined(snapshot, ctx, missing, keys, missingOut, start);
        }
        return out;
    }

    private String cacheKey(AgentPrompt prompt, ConversationSnapshot s, CallContext ctx) {
        // provider, model, agent, prompt version, redaction, context: one line each
        StringBuilder key = new StringBuilder(256);
        key.append(settings.name())
                .append('\n')
                .append(settings.model())
                .append('\n')
                .append(prompt.agent())
                .append('\n')
                .append(prompt.promptVersion())
                .append('\n')
                .append(settings.redactPii())
                .append('\n');
        prompt.appendContextKey(key, s, ctx);
        return AgentResults.hash(key.toString());
    }

    private AgentResult cached(
            ConversationSnapshot s, AgentPrompt prompt, String key, long startNanos) {
        if (rt.cache == null) {
            return null;
        }
        JsonNode cached = rt.cache.getIfPresent(key);
        if (cached == null) {
            rt.stats.cacheMisses.incrementAndGet();
            return null;
        }
        rt.stats.cacheHits.incrementAndGet();
        return result(s, prompt, key, cached, Usage.NONE, 0, startNanos);
    }

    private CompletableFuture<AgentResult> single(
            ConversationSnapshot snapshot,
            CallContext ctx,
            AgentPrompt prompt,
            String key,
            long start) {
        AgentPrompt.Rendered rendered = prompt.render(snapshot, ctx, settings.redactPii());
        ChatCall call = newCall(snapshot, prompt, rendered, start);
        if (call == null) {
            return circuitOpen();
        }
        return ask(call)
                .thenApply(
                        answer -> {
                            Usage usage = new Usage(call.promptTokens, call.completionTokens);
                            if (rt.cache != null) {
                                rt.cache.put(key, answer, prompt.promptVersion(), usage);
                            }
                            return result(
                                    snapshot, prompt, key, answer, usage, call.attempts, start);
                        });
    }

    private void combined(
            ConversationSnapshot snapshot,
            CallContext ctx,
            List<AgentPrompt> parts,
            List<String> keys,
            List<CompletableFuture<AgentResult>> out,
            long start) {
        StringBuilder id = new StringBuilder();
        for (AgentPrompt p : parts) {
            id.append(p.agent()).append('/').append(p.promptVersion()).append(';');
        }
        AgentPrompt prompt =
                combinedPrompts.computeIfAbsent(id.toString(), k -> AgentPrompt.combined(parts));
        AgentPrompt.Rendered rendered = prompt.renderCombined(snapshot, ctx, settings.redactPii());
        ChatCall call = newCall(snapshot, prompt, rendered, start);
        if (call == null) {
            CompletableFuture<AgentResult> open = circuitOpen();
            out.forEach(f -> Futures.forward(open, f));
            return;
        }
        ask(call)
                .whenComplete(
                        (answer, error) -> {
                            if (error != null) {
                                out.forEach(f -> f.completeExceptionally(error));
                                return;
                            }
                            try {
                                split(snapshot, ctx, parts, keys, out, call, answer, start);
                            } catch (RuntimeException e) {
                                out.forEach(f -> f.completeExceptionally(e));
                            }
                        });
    }

    private void split(
            ConversationSnapshot snapshot,
            CallContext ctx,
            List<AgentPrompt> parts,
            List<String> keys,
            List<CompletableFuture<AgentResult>> out,
            ChatCall call,
            JsonNode answer,
            long start) {
        long weights = 0;
        long answerChars = 0;
        // Each part's JSON length, written once: its share of the completion tokens.
        int[] partChars = new int[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            AgentPrompt p = parts.get(i);
            weights += p.weight();
            partChars[i] = answer.path(p.agent()).toString().length();
            answerChars += partChars[i];
        }
        for (int i = 0; i < parts.size(); i++) {
            AgentPrompt p = parts.get(i);
            JsonNode part = answer.path(p.agent());
            List<String> problems = p.validate(part);
            if (!problems.isEmpty()) {
                // This part alone is asked again, with its own prompt (and its own repair).
                rt.stats.repairs.incrementAndGet();
                Futures.forward(single(snapshot, ctx, p, keys.get(i), start), out.get(i));
                continue;
            }
            long promptShare = call.promptTokens * p.weight() / Math.max(1, weights);
            long completionShare = call.completionTokens * partChars[i] / Math.max(1, answerChars);
            if (rt.cache != null) {
                rt.cache.put(
                        keys.get(i),
                        part,
                        p.promptVersion(),
                        new Usage(promptShare, completionShare));
            }
            out.get(i)
                    .complete(
                            result(
                                    snapshot,
                                    p,
                                    keys.get(i),
                                    part,
                                    new Usage(promptShare, completionShare),
                                    call.attempts,
                                    start));
        }
    }

    private CompletableFuture<AgentResult> circuitOpen() {
        rt.stats.circuitRejections.incrementAndGet();
        return CompletableFuture.failedFuture(
                new ProviderException("circuit open for provider " + settings.name(), 0));
    }

    /** A new call, or null when the circuit is open. */
    private ChatCall newCall(
            ConversationSnapshot snapshot,
            AgentPrompt prompt,
            AgentPrompt.Rendered rendered,
            long start) {
        if (!rt.breaker.allowRequest()) {
            return null;
        }
        long estimatedTokens = rendered.estimatedTokens() + settings.maxTokens();
        return new ChatCall(
                prompt,
                rendered,
                start + settings.callDeadline().toNanos(),
                admission(snapshot.tenantId(), estimatedTokens));
    }

    /** Asks for a valid answer; a failure becomes a {@link ProviderException}. */
    private CompletableFuture<JsonNode> ask(ChatCall call) {
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
        return outcome;
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
            AgentPrompt prompt,
            String promptHash,
            JsonNode answer,
            Usage usage,
            int attempts,
            long startNanos) {
        String agent = prompt.agent();
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

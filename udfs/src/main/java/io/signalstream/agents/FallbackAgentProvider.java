package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Asks the primary provider and, when it gives no valid answer (an error, an exhausted retry
 * budget, an open circuit, an answer that breaks the schema), the fallback provider. The fallback's
 * answer is marked {@code status: fallback} with the primary's reason in {@code error}, so the
 * output says it did not come from the model that was asked.
 */
public final class FallbackAgentProvider implements AgentProvider {

    private final AgentProvider primary;
    private final AgentProvider fallback;
    private final Map<String, AgentProvider> byAgent;

    /**
     * @param primary the provider asked first
     * @param fallback the provider that answers when the primary cannot, for every agent
     */
    public FallbackAgentProvider(AgentProvider primary, AgentProvider fallback) {
        this.primary = primary;
        this.fallback = fallback;
        this.byAgent = Map.of();
    }

    /**
     * @param primary the provider asked first
     * @param fallbacks per agent, the provider that answers when the primary cannot; an agent
     *     without one has no fallback (the primary's failure is its result). Closed with this.
     */
    public FallbackAgentProvider(AgentProvider primary, Map<String, AgentProvider> fallbacks) {
        this.primary = primary;
        this.fallback = null;
        this.byAgent = Map.copyOf(fallbacks);
    }

    private AgentProvider fallbackFor(String agent) {
        return fallback != null ? fallback : byAgent.get(agent);
    }

    @Override
    public String name() {
        return primary.name();
    }

    @Override
    public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot) {
        return analyze(agent, snapshot, CallContext.NONE);
    }

    @Override
    public CompletableFuture<AgentResult> analyze(
            String agent, ConversationSnapshot snapshot, CallContext ctx) {
        CompletableFuture<AgentResult> first;
        try {
            first = primary.analyze(agent, snapshot, ctx);
        } catch (RuntimeException e) {
            first = CompletableFuture.failedFuture(e);
        }
        AgentProvider fb = fallbackFor(agent);
        return fb == null
                ? first
                : recover(primary.name(), first, () -> fb.analyze(agent, snapshot, ctx));
    }

    @Override
    public List<CompletableFuture<AgentResult>> analyzeAll(
            List<String> agents, ConversationSnapshot snapshot, CallContext ctx) {
        List<CompletableFuture<AgentResult>> firsts = primary.analyzeAll(agents, snapshot, ctx);
        List<CompletableFuture<AgentResult>> out = new ArrayList<>(agents.size());
        for (int i = 0; i < agents.size(); i++) {
            String agent = agents.get(i);
            AgentProvider fb = fallbackFor(agent);
            out.add(
                    fb == null
                            ? firsts.get(i)
                            : recover(
                                    primary.name(),
                                    firsts.get(i),
                                    () -> fb.analyze(agent, snapshot, ctx)));
        }
        return out;
    }

    /**
     * The primary's result when it has an answer; otherwise the fallback's, marked {@code fallback}
     * with the primary's reason and attempts. Counts the fallback in the primary's {@link
     * ProviderStats}.
     *
     * @param primaryName the primary provider's name
     * @param first the primary's result
     * @param fallback starts the fallback's analysis
     */
    public static CompletableFuture<AgentResult> recover(
            String primaryName,
            CompletableFuture<AgentResult> first,
            Supplier<CompletableFuture<AgentResult>> fallback) {
        return first.handle(
                        (result, error) -> {
                            if (error == null && result != null && result.hasAnswer()) {
                                return CompletableFuture.completedFuture(result);
                            }
                            String reason = primaryName + " failed: " + reason(result, error);
                            int attempts = attempts(result, error);
                            ProviderStats.of(primaryName).fallbacks.incrementAndGet();
                            return fallback.get()
                                    .thenApply(
                                            r ->
                                                    r.hasAnswer()
                                                            ? asFallback(r, reason, attempts)
                                                            : r);
                        })
                .thenCompose(f -> f);
    }

    private static String reason(AgentResult result, Throwable error) {
        Throwable t = error;
        while (t != null && t.getCause() != null && !(t instanceof ProviderException)) {
            t = t.getCause();
        }
        String why =
                t == null
                        ? (result == null ? "no result" : result.status() + ": " + result.error())
                        : (t instanceof ProviderException p ? p.reason() : t.toString());
        return why;
    }

    private static int attempts(AgentResult result, Throwable error) {
        Throwable t = error;
        while (t != null && !(t instanceof ProviderException)) {
            t = t.getCause();
        }
        if (t instanceof ProviderException p) {
            return p.attempts();
        }
        return result == null ? 0 : result.attempts();
    }

    private static AgentResult asFallback(AgentResult r, String reason, int primaryAttempts) {
        return new AgentResult(
                r.tenantId(),
                r.conversationId(),
                r.version(),
                r.messageId(),
                r.agent(),
                AgentStatus.FALLBACK,
                r.provider(),
                r.model(),
                r.promptVersion(),
                r.promptHash(),
                r.latencyMs(),
                primaryAttempts + r.attempts(),
                r.usage(),
                r.result(),
                reason);
    }

    @Override
    public void close() {
        try {
            primary.close();
        } finally {
            if (fallback != null) {
                fallback.close();
            }
            Set<AgentProvider> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            distinct.addAll(byAgent.values());
            for (AgentProvider p : distinct) {
                p.close();
            }
        }
    }
}

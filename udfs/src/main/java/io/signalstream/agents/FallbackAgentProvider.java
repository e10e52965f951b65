package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;

import java.util.concurrent.CompletableFuture;

/**
 * Asks the primary provider and, when it gives no valid answer (an error, an exhausted retry
 * budget, an open circuit, an answer that breaks the schema), the fallback provider. The fallback's
 * answer is marked {@code status: fallback} with the primary's reason in {@code error}, so the
 * output says it did not come from the model that was asked.
 */
public final class FallbackAgentProvider implements AgentProvider {

    private final AgentProvider primary;
    private final AgentProvider fallback;

    /**
     * @param primary the provider asked first
     * @param fallback the provider that answers when the primary cannot
     */
    public FallbackAgentProvider(AgentProvider primary, AgentProvider fallback) {
        this.primary = primary;
        this.fallback = fallback;
    }

    @Override
    public String name() {
        return primary.name();
    }

    @Override
    public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot) {
        CompletableFuture<AgentResult> first;
        try {
            first = primary.analyze(agent, snapshot);
        } catch (RuntimeException e) {
            first = CompletableFuture.failedFuture(e);
        }
        return first.handle(
                        (result, error) -> {
                            if (error == null && result != null && result.hasAnswer()) {
                                return CompletableFuture.completedFuture(result);
                            }
                            String reason = reason(result, error);
                            int attempts = attempts(result, error);
                            ProviderStats.of(primary.name()).fallbacks.incrementAndGet();
                            return fallback.analyze(agent, snapshot)
                                    .thenApply(
                                            r ->
                                                    r.hasAnswer()
                                                            ? asFallback(r, reason, attempts)
                                                            : r);
                        })
                .thenCompose(f -> f);
    }

    private String reason(AgentResult result, Throwable error) {
        Throwable t = error;
        while (t != null && t.getCause() != null && !(t instanceof ProviderException)) {
            t = t.getCause();
        }
        String why =
                t == null
                        ? (result == null ? "no result" : result.status() + ": " + result.error())
                        : (t instanceof ProviderException p ? p.reason() : t.toString());
        return primary.name() + " failed: " + why;
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
            fallback.close();
        }
    }
}

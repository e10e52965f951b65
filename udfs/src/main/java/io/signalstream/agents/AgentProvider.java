package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.ConversationSnapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Something that answers an agent's question about a conversation snapshot: an LLM behind an HTTP
 * API, or the in-process local analyzers.
 *
 * <p>Implementations never block the calling thread and never throw from {@link #analyze}: a
 * failure completes the future with an {@code AgentResult} whose status is {@code failed} (or
 * exceptionally, which the async operator turns into a failed result).
 */
public interface AgentProvider extends AutoCloseable {

    /** The provider's name as written in results, e.g. {@code local}. */
    String name();

    /**
     * Starts the analysis of one snapshot by one agent.
     *
     * @param agent {@code pii | sentiment | insights | summary}
     * @param snapshot the conversation at the version to analyse
     * @return a future of the result, completed off the caller's thread
     */
    CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot);

    /**
     * Starts the analysis of one snapshot by one agent that may build on its previous answer.
     *
     * @param ctx previous answers of rolling-summary agents; providers that do not use them ignore
     *     it
     */
    default CompletableFuture<AgentResult> analyze(
            String agent, ConversationSnapshot snapshot, CallContext ctx) {
        return analyze(agent, snapshot);
    }

    /**
     * Starts the analysis of one snapshot by several agents. A provider may answer them with one
     * request; each agent's future still completes (or fails) on its own, so a part that fails can
     * fall back alone. The default asks each agent separately.
     *
     * @param agents the agents, in a stable order
     * @return one future per agent, in the order of {@code agents}
     */
    default List<CompletableFuture<AgentResult>> analyzeAll(
            List<String> agents, ConversationSnapshot snapshot, CallContext ctx) {
        List<CompletableFuture<AgentResult>> out = new ArrayList<>(agents.size());
        for (String agent : agents) {
            try {
                out.add(analyze(agent, snapshot, ctx));
            } catch (RuntimeException e) {
                out.add(CompletableFuture.failedFuture(e));
            }
        }
        return out;
    }

    @Override
    void close();
}

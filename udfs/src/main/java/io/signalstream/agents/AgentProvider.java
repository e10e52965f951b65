package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.ConversationSnapshot;

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

    @Override
    void close();
}

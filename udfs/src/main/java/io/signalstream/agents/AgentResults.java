package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.Usage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/** Factories for agent results that carry no answer: failures and timeouts. */
public final class AgentResults {

    private AgentResults() {}

    /**
     * A {@code failed} result for a call that threw or completed exceptionally.
     *
     * @param snapshot the analysed snapshot
     * @param agent agent name
     * @param provider provider name
     * @param error the cause
     */
    public static AgentResult failed(
            ConversationSnapshot snapshot, String agent, String provider, Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getClass().getSimpleName() + ": " + root.getMessage();
        return empty(snapshot, agent, provider, AgentStatus.FAILED, 0, msg);
    }

    /**
     * A {@code timeout} result, emitted by the async operator when the call did not finish in time.
     *
     * @param timeoutMs the timeout that passed, in milliseconds
     */
    public static AgentResult timeout(
            ConversationSnapshot snapshot, String agent, String provider, long timeoutMs) {
        return empty(
                snapshot,
                agent,
                provider,
                AgentStatus.TIMEOUT,
                timeoutMs,
                "no answer within " + timeoutMs + " ms");
    }

    /**
     * A {@code skipped} result: the agent's provider cannot answer it and it has no fallback.
     *
     * @param reason why, written as {@code error}
     */
    public static AgentResult skipped(
            ConversationSnapshot snapshot, String agent, String provider, String reason) {
        return empty(snapshot, agent, provider, AgentStatus.SKIPPED, 0, reason);
    }

    private static AgentResult empty(
            ConversationSnapshot s,
            String agent,
            String provider,
            String status,
            long latencyMs,
            String error) {
        return new AgentResult(
                s.tenantId(),
                s.conversationId(),
                s.version(),
                s.lastMessage() == null ? null : s.lastMessage().messageId(),
                agent,
                status,
                provider,
                null,
                null,
                null,
                latencyMs,
                1,
                Usage.NONE,
                Map.of(),
                error);
    }

    /** One SHA-256 digest per thread (a digest is reset by {@link MessageDigest#digest}). */
    private static final ThreadLocal<MessageDigest> SHA256 =
            ThreadLocal.withInitial(
                    () -> {
                        try {
                            return MessageDigest.getInstance("SHA-256");
                        } catch (NoSuchAlgorithmException e) {
                            throw new IllegalStateException("SHA-256 is not available", e);
                        }
                    });

    /** First 16 hex digits of the SHA-256 of the text: the prompt hash of results and lineage. */
    public static String hash(String text) {
        byte[] d = SHA256.get().digest(text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(d, 0, 8);
    }
}

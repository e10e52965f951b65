package io.signalstream.llm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The state of one agent call across its attempts and its repair request: the conversation sent so
 * far, the deadline, the attempt count and the token usage the provider reported. Confined to one
 * call; its fields are touched by one callback at a time.
 */
final class ChatCall {

    /** What every attempt must pass before it is sent (the budget and the in-flight bound). */
    interface Admission {
        /**
         * Returns a future completed when the attempt may be sent; failed (with {@link
         * IllegalArgumentException} for a request that can never be admitted, or any other error)
         * when it may not.
         */
        CompletableFuture<Void> admit();

        /** Gives back what a successful {@link #admit()} took for the attempt in flight. */
        void release();

        /** Reports the usage of an answered attempt, in tokens. */
        void used(long promptTokens, long completionTokens);
    }

    final AgentPrompt prompt;

    /**
     * One chat message as sent.
     *
     * @param role {@code system}, {@code user} or {@code assistant}
     * @param content the text
     */
    record Message(String role, String content) {}

    /** The chat messages sent with every attempt. */
    final List<Message> messages = new ArrayList<>(2);

    /** {@link System#nanoTime()} after which no attempt is sent. */
    final long deadlineNanos;

    final Admission admission;

    /** Attempts made (repair requests included). */
    int attempts;

    long promptTokens;
    long completionTokens;

    /** Whether the request in flight asked for json_schema (the shared flag may flip meanwhile). */
    volatile boolean sentJsonSchema;

    /**
     * @param prompt the agent's prompt (its schema and name go into the request)
     * @param rendered the rendered system and user messages
     * @param deadlineNanos {@link System#nanoTime()} deadline of the whole call
     * @param admission the per-attempt admission
     */
    ChatCall(
            AgentPrompt prompt,
            AgentPrompt.Rendered rendered,
            long deadlineNanos,
            Admission admission) {
        this.prompt = prompt;
        this.deadlineNanos = deadlineNanos;
        this.admission = admission;
        messages.add(message("system", rendered.system()));
        messages.add(message("user", rendered.user()));
    }

    /** Returns whether the deadline has passed. */
    boolean pastDeadline() {
        return System.nanoTime() >= deadlineNanos;
    }

    static Message message(String role, String content) {
        return new Message(role, content);
    }

    /**
     * Why a call ends without an answer. {@code providerFault} tells whether it counts as a failure
     * of the provider (for the circuit breaker) or is an unexpected local error.
     */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        final boolean providerFault;

        Failure(String reason, boolean providerFault) {
            super(reason, null, false, false);
            this.providerFault = providerFault;
        }
    }
}

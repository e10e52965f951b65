package io.signalstream.events;

/**
 * Token usage of one agent call, as reported by the provider (0 for the local provider).
 *
 * @param promptTokens tokens in the prompt
 * @param completionTokens tokens in the answer
 */
public record Usage(long promptTokens, long completionTokens) {

    /** No tokens used. */
    public static final Usage NONE = new Usage(0, 0);
}

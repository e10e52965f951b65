package io.signalstream.events;

/** The outcome of one agent call, as written in {@code AgentResult.status}. */
public final class AgentStatus {
    /** The primary provider answered with a valid result. */
    public static final String OK = "ok";

    /** The fallback provider answered; {@code error} says why. */
    public static final String FALLBACK = "fallback";

    /** Every attempt failed; {@code error} says why, {@code result} is empty. */
    public static final String FAILED = "failed";

    /** No answer within the async operator's timeout. */
    public static final String TIMEOUT = "timeout";

    /** The agent decided not to run (e.g. an empty transcript). */
    public static final String SKIPPED = "skipped";

    private AgentStatus() {}
}
